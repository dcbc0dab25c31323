"""Test configuration: point $STGRAPH_DATA at ../shared/data when that folder exists."""

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

if SHARED_DATA.is_dir():
    os.environ.setdefault("STGRAPH_DATA", str(SHARED_DATA))


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
