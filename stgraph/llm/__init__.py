"""Frozen language models: region text prompts and their embeddings (optional ``llm`` extra)."""
