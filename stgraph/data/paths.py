"""Where datasets live on disk.

The data directory is found in this order: an explicit argument (the CLI's ``--data-dir``),
the environment variable ``STGRAPH_DATA``, and finally a per-user cache directory
(``$XDG_CACHE_HOME/stgraph`` or ``~/.cache/stgraph``).

Files stgraph derives from data (text-embedding caches) go to :func:`resolve_cache_dir`, never
into the data directory, which may be read-only.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV_VAR = "STGRAPH_DATA"
CACHE_ENV_VAR = "STGRAPH_CACHE"


def default_cache_dir() -> Path:
    """Return the per-user cache directory used when nothing else is configured."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "stgraph"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the data directory: ``data_dir``, else ``$STGRAPH_DATA``, else the user cache."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_ENV_VAR)
    if env:
        return Path(env).expanduser()
    return default_cache_dir()


def resolve_cache_dir() -> Path:
    """Folder for derived files: ``$STGRAPH_CACHE``, else ``derived/`` in the user cache."""
    env = os.environ.get(CACHE_ENV_VAR)
    return Path(env).expanduser() if env else default_cache_dir() / "derived"
