"""Saving and loading graph files without ever leaving a half-written file behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from torch_geometric.data import Data

from stgraph.errors import InputError


def writable_target(path: str | Path) -> Path:
    """Check that ``path`` can be written (its folder exists and is writable); return it."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK):
        raise InputError(f"output folder is not writable: {folder}")
    if path.is_dir():
        raise InputError(f"output path is a folder: {path}")
    return path


def atomic_torch_save(obj: object, path: Path) -> None:
    """:func:`torch.save` to a temporary file beside ``path``, then rename it into place, so a
    reader never sees a half-written file."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(handle)
    try:
        torch.save(obj, temp)
        os.replace(temp, path)
    finally:
        Path(temp).unlink(missing_ok=True)


def save_graph(data: Data, path: str | Path) -> Path:
    """Write ``data`` atomically (see :func:`atomic_torch_save`) after checking the folder."""
    path = writable_target(path)
    atomic_torch_save(data, path)
    return path


def load_graph(path: str | Path) -> Data:
    """Load a graph written by :func:`save_graph` or ``stgraph build-graph``.

    These files hold a pickled PyG ``Data`` (with string ids), so they are loaded with
    ``weights_only=False``: only load files you made or trust.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"file not found: {path}")
    return torch.load(path, weights_only=False)
