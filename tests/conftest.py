"""Test configuration: point $STGRAPH_DATA at ../shared/data when that folder exists."""

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

if SHARED_DATA.is_dir():
    os.environ.setdefault("STGRAPH_DATA", str(SHARED_DATA))


def save_tiny_bert(folder: Path, hidden: int = 16, layers: int = 2, heads: int = 2) -> Path:
    """A small BERT with a 40-word vocabulary and its tokenizer, saved into ``folder``."""
    import transformers

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "crime", "region", "shops", "bars"]
    words += ["park", "homes", "task", "estimate", "many", "the", "of", "a", "in", "calls"]
    words += [f"w{i}" for i in range(40 - len(words))]
    folder.mkdir(parents=True)
    (folder / "vocab.txt").write_text("\n".join(words) + "\n")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(folder / "vocab.txt"))
    config = transformers.BertConfig(
        vocab_size=len(words),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=2 * hidden,
        max_position_embeddings=64,
    )
    transformers.BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def save_tiny_gpt2(folder: Path, hidden: int = 16, layers: int = 3, heads: int = 2) -> Path:
    """A small GPT-2 (no tokenizer: backbones never read one), saved into ``folder``."""
    import transformers

    config = transformers.GPT2Config(
        vocab_size=50, n_positions=64, n_embd=hidden, n_layer=layers, n_head=heads
    )
    transformers.GPT2Model(config).save_pretrained(folder)
    return folder


@pytest.fixture
def tiny_bert(tmp_path: Path) -> Path:
    """Folder of a two-layer BERT (width 16, two heads) with its tokenizer."""
    pytest.importorskip("transformers")
    return save_tiny_bert(tmp_path / "tiny-bert")


@pytest.fixture
def tiny_gpt2(tmp_path: Path) -> Path:
    """Folder of a three-layer GPT-2 (width 16, two heads)."""
    pytest.importorskip("transformers")
    return save_tiny_gpt2(tmp_path / "tiny-gpt2")


@pytest.fixture
def shared_data() -> Path:
    """The real datasets; tests that need them are skipped where they are absent."""
    root = Path(os.environ.get("STGRAPH_DATA", SHARED_DATA))
    if not (root / "README.md").exists() and not (root / "los_loop").is_dir():
        pytest.skip("real datasets not available (set STGRAPH_DATA)")
    return root


def pytest_terminal_summary(terminalreporter) -> None:
    """The fuzz suite's count: generated bad inputs, tracebacks, partial outputs."""
    from tests import test_fuzz_inputs

    counts = test_fuzz_inputs.FUZZ_COUNTS
    if counts["inputs"]:
        terminalreporter.write_line(
            f"fuzz: {counts['inputs']} generated bad inputs, {counts['tracebacks']} tracebacks, "
            f"{counts['partial outputs']} partial outputs"
        )
