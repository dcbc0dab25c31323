"""Your own sensors: a folder of readings and a graph, loaded as a :class:`TemporalSignal`.

The canonical layout (``stgraph bench --dataset PATH``, ``stgraph data check PATH``)::

    FOLDER/
      readings.csv     wide: a timestamp column, then one column per node id, a row per step;
                       or long: columns timestamp,node,value[,feature] (any row order)
      readings.npy     instead of the CSV: [T, N] or [T, N, F] floats, nodes in graph order
      timestamps.csv   with readings.npy: one timestamp per step (or timestamps.npy; or
                       "start" and "step_seconds" in protocol.json)
      graph.pt         a graph written by `stgraph build-graph` (its node_id gives the order)
      nodes.csv        instead of graph.pt: a point table (id + lat/lon or x/y); a kNN graph
                       with k = min(8, N - 1) is built from it
      mask.npy         optional, the readings' shape, true where a reading is observed
      protocol.json    optional: fields of Protocol (input_len, output_len, split, null_value,
                       metrics, horizons, ...), plus "start"/"step_seconds" (see above)

Timestamps are ISO 8601 (read as UTC wall clock) or Unix seconds; they must increase by one
fixed step (a missing step is a row of empty cells or NaN, not a missing row). Empty cells and
NaN are missing readings; ``null_value`` (default: none) marks more. The steps per day follow
from the step. Every problem is one :class:`~stgraph.errors.InputError` naming the file.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.utils import degree

from stgraph.data.graph_building import knn_graph
from stgraph.data.io import load_graph
from stgraph.data.protocol import Protocol
from stgraph.data.tables import read_csv_rows, read_point_table, split_header
from stgraph.data.temporal import SECONDS_PER_DAY, TemporalSignal
from stgraph.errors import InputError

KNN = 8
"""Neighbours per node of the graph built from ``nodes.csv``."""

TIME_NAMES = ("timestamp", "time", "datetime", "date")
FLOAT32_MAX = float(np.finfo(np.float32).max)
LONG_COLUMNS = ("node", "value")


def _timestamp(text: str, where: str) -> int:
    """Unix seconds of an ISO 8601 string (UTC when no zone is given) or of a number."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    if seconds is not None:
        if not np.isfinite(seconds) or abs(seconds) > 2**40:
            raise InputError(f"{where}: '{text}' is not a timestamp (ISO 8601 or Unix seconds)")
        return int(seconds)
    try:
        stamp = dt.datetime.fromisoformat(text)
    except ValueError as err:
        raise InputError(
            f"{where}: '{text}' is not a timestamp (ISO 8601 or Unix seconds)"
        ) from err
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.timezone.utc)
    return int(stamp.timestamp())


def _number(text: str, where: str) -> float:
    if text == "":
        return np.nan
    try:
        value = float(text)
    except ValueError as err:
        raise InputError(f"{where}: '{text}' is not a number") from err
    if np.isinf(value):
        raise InputError(f"{where}: infinite reading")
    if abs(value) > FLOAT32_MAX:
        raise InputError(f"{where}: {text} does not fit a 32-bit float")
    return value


def _step_seconds(stamps: np.ndarray, where: str) -> int:
    if len(stamps) < 2:
        raise InputError(f"{where}: fewer than two time steps")
    steps = np.diff(stamps)
    if (steps <= 0).any():
        k = int(np.argmax(steps <= 0)) + 1
        kind = "repeats" if steps[k - 1] == 0 else "goes back in time"
        raise InputError(f"{where}: the timestamp of step {k} {kind}; sort the rows by time")
    if (steps != steps[0]).any():
        k = int(np.argmax(steps != steps[0])) + 1
        raise InputError(
            f"{where}: timestamps are not evenly spaced (step {k} is {steps[k - 1]} s after the "
            f"one before, the first {steps[0]} s); give missing steps as empty rows"
        )
    return int(steps[0])


def _read_wide_or_long(path: Path) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    """``(readings [T, N, F], node ids, timestamps [T], feature names)`` of a readings CSV."""
    header, rows = split_header(read_csv_rows(path))
    if header is None or not rows:
        raise InputError(f"{path}: needs a header row and at least one data row")
    names = [h.lower() for h in header]
    time = next((names.index(n) for n in TIME_NAMES if n in names), None)
    if time is None:
        raise InputError(f"{path}: no timestamp column (one of {', '.join(TIME_NAMES)})")
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise InputError(
                f"{path}: data row {i + 1} has {len(row)} cells, the header {len(header)}"
            )
    if all(c in names for c in LONG_COLUMNS):
        return _read_long(path, names, rows, time)
    nodes = [h for i, h in enumerate(header) if i != time]
    if not nodes:
        raise InputError(f"{path}: no node columns beside the timestamp")
    if len(set(nodes)) != len(nodes):
        raise InputError(f"{path}: a node column appears twice")
    stamps = np.array([_timestamp(r[time], f"{path} row {i + 1}") for i, r in enumerate(rows)])
    values = np.array(
        [
            [_number(c, f"{path} row {i + 1}") for j, c in enumerate(r) if j != time]
            for i, r in enumerate(rows)
        ],
        dtype=np.float32,
    )
    return values[:, :, None], nodes, stamps, ["value"]


def _read_long(
    path: Path, names: list[str], rows: list[list[str]], time: int
) -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    node, value = names.index("node"), names.index("value")
    feature = names.index("feature") if "feature" in names else None
    stamps_of = [_timestamp(r[time], f"{path} row {i + 1}") for i, r in enumerate(rows)]
    stamps = np.unique(stamps_of)
    nodes = sorted({r[node] for r in rows})
    features = sorted({r[feature] for r in rows}) if feature is not None else ["value"]
    step, node_at, feature_at = (
        {s: i for i, s in enumerate(stamps)},
        {n: i for i, n in enumerate(nodes)},
        {f: i for i, f in enumerate(features)},
    )
    values = np.full((len(stamps), len(nodes), len(features)), np.nan, dtype=np.float32)
    seen = np.zeros(values.shape, dtype=bool)
    for i, (r, stamp) in enumerate(zip(rows, stamps_of, strict=True)):
        at = (step[stamp], node_at[r[node]], feature_at[r[feature]] if feature is not None else 0)
        if seen[at]:
            raise InputError(f"{path}: row {i + 1} repeats a (timestamp, node, feature) reading")
        seen[at] = True
        values[at] = _number(r[value], f"{path} row {i + 1}")
    return values, nodes, stamps, features


def _scan(values: np.ndarray, where: Path, chunk: int = 4096) -> None:
    """Reject infinite readings and readings beyond 32-bit floats, a block of steps at a time
    (a memory-mapped file is read once, never copied whole)."""
    for start in range(0, len(values), chunk):
        block = np.asarray(values[start : start + chunk], dtype=np.float64)
        if np.isinf(block).any() or np.nanmax(np.abs(block), initial=0) > FLOAT32_MAX:
            raise InputError(f"{where}: infinite readings, or readings beyond 32-bit floats")


def _tensor(values: np.ndarray) -> torch.Tensor:
    """``values`` as a float32 tensor: the memory-mapped file itself when it already holds
    contiguous float32, else a converted copy."""
    if values.dtype == np.float32 and values.flags.c_contiguous:
        with warnings.catch_warnings():  # read-only map: stgraph never writes to the series
            warnings.simplefilter("ignore", UserWarning)
            return torch.from_numpy(values)
    return torch.as_tensor(np.ascontiguousarray(values, dtype=np.float32))


def _read_stamps(root: Path, count: int, settings: dict) -> np.ndarray:
    if (root / "timestamps.npy").exists():
        stamps = np.load(root / "timestamps.npy").astype(np.int64).reshape(-1)
        where = str(root / "timestamps.npy")
    elif (root / "timestamps.csv").exists():
        where = str(root / "timestamps.csv")
        rows = read_csv_rows(root / "timestamps.csv")
        if rows and rows[0] and rows[0][0].lower() in TIME_NAMES:
            rows = rows[1:]
        stamps = np.array([_timestamp(r[0], f"{where} row {i + 1}") for i, r in enumerate(rows)])
    elif "start" in settings and "step_seconds" in settings:
        start = _timestamp(str(settings["start"]), str(root / "protocol.json"))
        return start + np.arange(count, dtype=np.int64) * int(settings["step_seconds"])
    else:
        raise InputError(
            f"{root}: readings.npy needs timestamps.csv, timestamps.npy or 'start' and "
            "'step_seconds' in protocol.json"
        )
    if len(stamps) != count:
        raise InputError(f"{where}: {len(stamps)} timestamps for {count} steps of readings")
    return stamps


def _graph(root: Path) -> Data:
    if (root / "graph.pt").exists():
        graph = load_graph(root / "graph.pt")
        if not isinstance(graph, Data) or getattr(graph, "node_id", None) is None:
            raise InputError(f"{root / 'graph.pt'} is not a graph written by stgraph build-graph")
        return graph
    if (root / "nodes.csv").exists():
        points = read_point_table(root / "nodes.csv")
        if len(points) < 2:
            raise InputError(f"{root / 'nodes.csv'}: a graph needs at least two nodes")
        return knn_graph(points, min(KNN, len(points) - 1))
    raise InputError(f"{root}: no graph.pt or nodes.csv")


def _settings(root: Path) -> dict:
    path = root / "protocol.json"
    if not path.exists():
        return {}
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path} is not valid JSON") from err
    if not isinstance(settings, dict):
        raise InputError(f"{path} must hold one JSON object")
    return settings


def _protocol(settings: dict, step: int, where: Path) -> Protocol:
    fields = {k: v for k, v in settings.items() if k not in ("start", "step_seconds")}
    fields.setdefault("null_value", None)
    fields.setdefault(
        "steps_per_day", SECONDS_PER_DAY // step if SECONDS_PER_DAY % step == 0 else None
    )
    output_len = fields.get("output_len", 12)
    fields.setdefault("horizons", [h for h in (3, 6, 12) if h <= output_len] or [output_len])
    try:
        return Protocol.from_dict(fields)
    except (TypeError, ValueError) as err:
        raise InputError(f"{where}: {err}") from err


def load_temporal_folder(path: str | Path) -> TemporalSignal:
    """Load a temporal folder (see the module docstring) as a :class:`TemporalSignal`."""
    root = Path(path)
    if not root.is_dir():
        raise InputError(f"temporal folder not found: {root}")
    csv_path, npy_path = root / "readings.csv", root / "readings.npy"
    if csv_path.exists() == npy_path.exists():
        raise InputError(f"{root}: give exactly one of readings.csv and readings.npy")
    settings = _settings(root)
    graph = _graph(root)
    order = [str(i) for i in graph.node_id]
    if csv_path.exists():
        values, nodes, stamps, features = _read_wide_or_long(csv_path)
        where = csv_path
        missing = [n for n in nodes if n not in set(order)]
        if missing:
            raise InputError(f"{csv_path}: node '{missing[0]}' is not in the graph")
        absent = [n for n in order if n not in set(nodes)]
        if absent:
            raise InputError(f"{csv_path}: the graph's node '{absent[0]}' has no readings")
        values = values[:, [nodes.index(n) for n in order]]
    else:
        where = npy_path
        try:
            values = np.load(npy_path, mmap_mode="r", allow_pickle=False)
        except ValueError as err:
            raise InputError(f"{npy_path} is not a numeric .npy array") from err
        if values.ndim == 2:
            values = values[:, :, None]
        if values.ndim != 3 or not np.issubdtype(values.dtype, np.number):
            raise InputError(f"{npy_path}: expected a numeric [T, N] or [T, N, F] array")
        if values.shape[1] != len(order):
            raise InputError(f"{npy_path}: {values.shape[1]} nodes, the graph has {len(order)}")
        _scan(values, npy_path)
        stamps = _read_stamps(root, values.shape[0], settings)
        features = [f"feature{i}" for i in range(values.shape[2])]
    step = _step_seconds(np.asarray(stamps, dtype=np.int64), str(where))
    protocol = _protocol(settings, step, root / "protocol.json")
    signal = _tensor(values)
    mask = torch.isfinite(signal)
    if protocol.null_value is not None:
        mask &= signal != protocol.null_value
    if (root / "mask.npy").exists():
        given = np.load(root / "mask.npy", allow_pickle=False)
        if given.shape not in (signal.shape, signal.shape[:2]):
            raise InputError(
                f"{root / 'mask.npy'}: shape {given.shape}, the readings' is {tuple(signal.shape)}"
            )
        given = torch.as_tensor(given.astype(bool)).reshape(signal.shape[0], signal.shape[1], -1)
        mask &= given.expand_as(mask)
    if not mask.any():
        raise InputError(f"{where}: no observed reading")
    if not mask.all():  # missing entries become 0 (a copy only then)
        signal = torch.where(mask, signal, torch.zeros_like(signal))
    stamps_t = torch.as_tensor(np.asarray(stamps, dtype=np.int64))
    return TemporalSignal(root.name, signal, mask, graph, protocol, stamps_t, features)


def check_report(signal: TemporalSignal) -> list[tuple[str, str]]:
    """What ``stgraph data check`` prints about a loaded folder: shape, period, missing share,
    graph coverage and the windows its protocol gives."""
    stamps = signal.timestamps
    step = int(stamps[1] - stamps[0])
    missing = 1 - signal.mask.float().mean().item()
    per_node = 1 - signal.mask.float().mean(dim=(0, 2))
    graph = signal.graph
    touched = degree(graph.edge_index.reshape(-1), signal.num_nodes)
    isolated = int((touched == 0).sum())
    when = [dt.datetime.fromtimestamp(int(s), dt.timezone.utc).isoformat() for s in stamps[[0, -1]]]
    windows = [len(signal.window_starts(part)) for part in ("train", "val", "test")]
    return [
        (
            "shape",
            f"{signal.num_steps} steps x {signal.num_nodes} nodes x {signal.num_features} features",
        ),
        ("time", f"{when[0]} to {when[1]}, every {step} s"),
        ("steps per day", str(signal.protocol.steps_per_day or "none (irregular day)")),
        (
            "missing",
            f"{100 * missing:.2f}% of readings; worst node {100 * per_node.max().item():.1f}%",
        ),
        (
            "graph",
            f"{graph.num_edges} edges, {signal.num_nodes - isolated} of {signal.num_nodes} nodes "
            f"connected ({isolated} isolated), coordinates: "
            + ("yes" if getattr(graph, "pos", None) is not None else "no"),
        ),
        ("protocol", signal.protocol.describe()),
        ("windows", "train {}, val {}, test {}".format(*windows)),
    ]
