"""Dataset recipes and ``stgraph data fetch``.

A recipe (``data_recipes/<name>.json``, installed as :mod:`stgraph.data_recipes`) names, for
every file of a dataset, where it comes from (one or more mirror URLs), its expected sha256 and
size, and its license, plus the evaluation protocol that travels with the dataset.

:func:`fetch` downloads each missing file into a temporary file beside its destination, checks
size and sha256 while streaming, and only then renames it into place (``os.replace`` is
atomic on one file system). A wrong checksum deletes the temporary file and tries the next
mirror; when every mirror fails nothing is left behind. A file already present, placed by hand
or fetched before, is verified the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from stgraph.data.protocol import Protocol
from stgraph.errors import InputError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

CHUNK = 1 << 20
RECIPES_PACKAGE = "stgraph.data_recipes"


@dataclass
class RecipeFile:
    """One file of a recipe (``sha256``/``size`` are ``None`` when no checksum is published)."""

    path: str
    urls: list[str]
    sha256: str | None
    size: int | None
    license: str = ""
    source: str = ""
    unzip: dict | None = None
    note: str = ""
    optional: bool = False


@dataclass
class Recipe:
    """Where a dataset's files come from, and the protocol that travels with it."""

    name: str
    description: str
    shape: str
    files: list[RecipeFile]
    protocol: dict = field(default_factory=dict)
    protocols: dict[str, dict] = field(default_factory=dict)

    def forecasting_protocol(self, name: str | None = None) -> Protocol:
        """The protocol as a :class:`Protocol` (temporal datasets only); with ``name``, one of
        the recipe's named alternatives (``protocols``: fields that replace the dataset's own,
        never its ``null_value``, which decides what is loaded as missing)."""
        if name is None:
            return Protocol.from_dict(self.protocol)
        if name not in self.protocols:
            named = ", ".join(self.protocols) or "none"
            raise InputError(
                f"'{self.name}' has no protocol '{name}'; its named protocols: {named}"
            )
        return Protocol.from_dict({**self.protocol, **self.protocols[name]})


def _parse(doc: dict, origin: str) -> Recipe:
    try:
        files = [RecipeFile(**entry) for entry in doc["files"]]
        return Recipe(
            doc["name"],
            doc.get("description", ""),
            doc.get("shape", ""),
            files,
            doc.get("protocol", {}),
            doc.get("protocols", {}),
        )
    except (KeyError, TypeError) as err:
        raise InputError(f"malformed recipe {origin}: {err}") from err


def recipes_folder() -> Traversable:
    """The recipes: ``<checkout>/data_recipes`` when running from a source checkout (or an
    editable install), else the installed package :mod:`stgraph.data_recipes`.
    """
    source = Path(__file__).resolve().parents[2] / "data_recipes"
    if source.is_dir():
        return source
    return resources.files(RECIPES_PACKAGE)


def recipe_names() -> list[str]:
    """Names of the installed recipes."""
    return sorted(p.name[:-5] for p in recipes_folder().iterdir() if p.name.endswith(".json"))


def load_recipe(name_or_path: str | Path) -> Recipe:
    """Load an installed recipe by dataset name, or any recipe file by path."""
    path = Path(name_or_path)
    if path.suffix == ".json":
        if not path.is_file():
            raise InputError(f"recipe file not found: {path}")
        try:
            return _parse(json.loads(path.read_text(encoding="utf-8")), str(path))
        except json.JSONDecodeError as err:
            raise InputError(f"recipe {path} is not valid JSON") from err
    resource = recipes_folder() / f"{name_or_path}.json"
    if not resource.is_file():
        raise InputError(
            f"no recipe for '{name_or_path}'; recipes exist for: {', '.join(recipe_names())}"
        )
    return _parse(json.loads(resource.read_text(encoding="utf-8")), str(name_or_path))


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class FetchResult:
    """What :func:`fetch` did with one file: ``downloaded``, ``verified`` or ``manual``."""

    path: Path
    action: str
    sha256: str | None = None
    detail: str = ""


ProgressHook = Callable[[str, int, int | None], None]
"""``hook(label, bytes_so_far, total_bytes)``, called while downloading."""


def _download(
    url: str,
    target: Path,
    label: str,
    expected_size: int | None,
    progress: ProgressHook | None,
    timeout: float,
) -> str:
    digest = hashlib.sha256()
    done = 0
    with urllib.request.urlopen(url, timeout=timeout) as response, open(target, "wb") as out:
        total = expected_size or int(response.headers.get("Content-Length") or 0) or None
        while chunk := response.read(CHUNK):
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(label, done, total)
    return digest.hexdigest()


def _fetch_one(
    entry: RecipeFile,
    dest: Path,
    allow_unverified: bool,
    progress: ProgressHook | None,
    timeout: float,
) -> FetchResult:
    if not entry.urls:
        return FetchResult(
            dest, "manual", detail=f"place the file by hand at {dest} ({entry.note})"
        )
    if entry.sha256 is None and not allow_unverified:
        return FetchResult(
            dest,
            "manual",
            detail=f"no published checksum; fetch with --allow-unverified or place it at {dest}",
        )
    expected_archive = entry.unzip["archive_sha256"] if entry.unzip else entry.sha256
    errors = []
    for url in entry.urls:
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{dest.name}.", suffix=".part", dir=dest.parent
        )
        os.close(handle)
        temp = Path(temp_name)
        try:
            got = _download(
                url,
                temp,
                dest.name,
                entry.unzip["archive_size"] if entry.unzip else entry.size,
                progress,
                timeout,
            )
            if expected_archive is not None and got != expected_archive:
                errors.append(
                    f"checksum mismatch from {url} (expected {expected_archive[:12]}…, "
                    f"got {got[:12]}…)"
                )
                continue
            if entry.unzip:
                got = _extract_member(temp, entry.unzip["member"], dest)
                if entry.sha256 is not None and got != entry.sha256:
                    errors.append(f"checksum mismatch of {entry.unzip['member']} in {url}")
                    continue
            os.replace(temp, dest)
            return FetchResult(dest, "downloaded", got)
        except (urllib.error.URLError, OSError, zipfile.BadZipFile) as err:
            errors.append(f"{url}: {getattr(err, 'reason', err)}")
        finally:
            temp.unlink(missing_ok=True)
    raise InputError(f"could not fetch {entry.path}: " + "; ".join(errors))


def _extract_member(archive: Path, member: str, dest: Path) -> str:
    """Replace ``archive``'s content by its ``member``; return the member's sha256."""
    extracted = archive.with_suffix(".member")
    try:
        with zipfile.ZipFile(archive) as zf, zf.open(member) as src, open(extracted, "wb") as out:
            while chunk := src.read(CHUNK):
                out.write(chunk)
        os.replace(extracted, archive)
    finally:
        extracted.unlink(missing_ok=True)
    return sha256_of(archive)


def fetch(
    recipe: Recipe,
    data_dir: Path,
    *,
    allow_unverified: bool = False,
    progress: ProgressHook | None = None,
    timeout: float = 60.0,
) -> list[FetchResult]:
    """Download (or verify) every file of ``recipe`` under ``data_dir``.

    Raises :class:`InputError` when a present file has the wrong checksum (it is left in place
    and named) or when a file cannot be obtained from any mirror (nothing is left behind).
    """
    results = []
    for entry in recipe.files:
        dest = data_dir / entry.path
        if dest.exists():
            if entry.sha256 is None:
                results.append(
                    FetchResult(dest, "verified", None, "present; no published checksum")
                )
                continue
            got = sha256_of(dest)
            if got != entry.sha256:
                raise InputError(
                    f"{dest} is present but its sha256 is {got[:12]}…, expected "
                    f"{entry.sha256[:12]}…; delete it and fetch again"
                )
            results.append(FetchResult(dest, "verified", got))
            continue
        created = [p for p in [*reversed(dest.parents)] if not p.exists()]
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            results.append(_fetch_one(entry, dest, allow_unverified, progress, timeout))
        except InputError:
            for folder in reversed(created):
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
            raise
    return results
