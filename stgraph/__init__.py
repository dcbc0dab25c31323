"""stgraph: graph learning on PyTorch Geometric for spatio-temporal and urban data."""

__version__ = "0.1.0"

from stgraph.errors import InputError  # noqa: E402

__all__ = ["InputError", "__version__"]
