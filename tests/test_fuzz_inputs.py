"""Property-based tests: corrupted user files get one line and exit 2, never a traceback, and
nothing is written.

Point tables go through ``stgraph build-graph`` itself; city folders through the loader and
the tensor preparation that ``stgraph bench --city`` runs before it writes anything; temporal
folders through the loading and window checks that ``stgraph bench --dataset PATH`` runs
before it writes anything. Every
generated input is counted; the count is printed in the test run's summary.
"""

import json
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from stgraph.cli import app
from stgraph.data.city_folder import load_city
from stgraph.data.regions import region_tensors
from stgraph.errors import InputError
from tests.bench.test_region_bench import city_folder

runner = CliRunner()
FUZZ_COUNTS = {"inputs": 0, "tracebacks": 0, "partial outputs": 0}
SETTINGS = settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

BAD_CELLS = ["nan", "inf", "-inf", "", "abc", "1e400", "-91", "181", "1e308", "0x1", " ", "--"]


@st.composite
def point_tables(draw) -> str:
    """A valid lat/lon table with one to three corruptions."""
    n = draw(st.integers(2, 8))
    header = ["id", "lat", "lon"]
    rows = [[f"s{i}", f"{40 + i * 0.01:.4f}", f"{-73 - i * 0.01:.4f}"] for i in range(n)]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(
                [
                    "cell",
                    "drop column",
                    "extra column",
                    "duplicate id",
                    "ragged",
                    "rename",
                    "empty",
                    "header only",
                    "unsorted",
                    "huge",
                ]
            )
        )
        if kind == "cell" and rows:
            r, c = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(header) - 1))
            if c < len(rows[r]):
                rows[r][c] = draw(st.sampled_from(BAD_CELLS))
        elif kind == "drop column" and len(header) > 1:
            c = draw(st.integers(0, len(header) - 1))
            header.pop(c)
            rows = [row[:c] + row[c + 1 :] for row in rows]
        elif kind == "extra column":
            header.append(draw(st.sampled_from(["lat", "x", "note", "id", ""])))
            rows = [[*row, draw(st.sampled_from(["1", "abc", "nan"]))] for row in rows]
        elif kind == "duplicate id" and len(rows) > 1:
            rows[1][0] = rows[0][0]
        elif kind == "ragged" and rows:
            rows[draw(st.integers(0, len(rows) - 1))].pop()
        elif kind == "rename":
            header[draw(st.integers(0, len(header) - 1))] = draw(
                st.sampled_from(["LAT", "Longitude", "y", "x", "name", "value"])
            )
        elif kind == "empty":
            return ""
        elif kind == "header only":
            rows = []
        elif kind == "unsorted":
            rows.reverse()
        elif kind == "huge" and rows:
            rows[0] = [rows[0][0], "1e308", "1e308"][: len(rows[0])]
    return "\n".join(",".join(row) for row in [header, *rows]) + "\n"


def _folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="stgraph-fuzz-"))


def _assert_input_error_only(folder: Path, load, corruptions) -> None:
    """``load()`` succeeds or raises a one-line InputError, and leaves ``folder`` as it was."""
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    crashed = False
    try:
        load()
    except InputError as err:
        assert "\n" not in str(err)
    except Exception:  # noqa: BLE001 - any other exception is the failure counted here
        crashed = True
    partial = sorted(p.relative_to(folder) for p in folder.rglob("*")) != before
    _record(crashed, partial)
    assert not crashed, corruptions
    assert not partial


def _record(traceback: bool, partial: bool) -> None:
    FUZZ_COUNTS["inputs"] += 1
    FUZZ_COUNTS["tracebacks"] += traceback
    FUZZ_COUNTS["partial outputs"] += partial


@SETTINGS
@given(table=point_tables(), k=st.integers(1, 4))
def test_corrupted_point_tables_never_crash_build_graph(table, k):
    root = _folder()
    (root / "points.csv").write_text(table)
    out = root / "graph.pt"
    result = runner.invoke(
        app, ["build-graph", str(root / "points.csv"), "--knn", str(k), "-o", str(out)]
    )
    crashed = result.exit_code not in (0, 2) or "Traceback" in result.output + result.stderr
    partial = result.exit_code != 0 and (out.exists() or any(root.glob("*.part*")))
    _record(crashed, partial)
    assert not crashed, result.output + result.stderr
    assert not partial
    if result.exit_code == 2:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ")
    else:
        assert out.exists()


@st.composite
def city_corruptions(draw) -> list[tuple[str, object]]:
    kinds = st.sampled_from(
        [
            "view nan",
            "view inf",
            "view rows",
            "view 1-d",
            "view empty",
            "label nan",
            "label rows",
            "mobility shape",
            "mobility nan",
            "coords rows",
            "coords range",
            "contiguity range",
            "contiguity text",
            "tasks junk",
            "tasks shape",
            "tasks unknown",
            "similarity shape",
            "view text",
            "huge view",
        ]
    )
    return [(draw(kinds), draw(st.integers(0, 10**6))) for _ in range(draw(st.integers(1, 2)))]


def corrupt_city(folder: Path, kind: str, salt: int) -> None:
    rng = np.random.default_rng(salt)
    poi = np.load(template_city() / "views" / "poi.npy").astype(np.float64)
    if kind in ("view nan", "view inf", "huge view"):
        value = {"view nan": np.nan, "view inf": np.inf, "huge view": 1e308}[kind]
        poi[rng.integers(len(poi)), rng.integers(poi.shape[1])] = value
        np.save(folder / "views" / "poi.npy", poi)
    elif kind == "view rows":
        np.save(folder / "views" / "poi.npy", poi[: rng.integers(0, len(poi) - 1)])
    elif kind == "view 1-d":
        np.save(folder / "views" / "poi.npy", poi[:, 0])
    elif kind == "view empty":
        np.save(folder / "views" / "poi.npy", np.zeros((0, 0)))
    elif kind == "view text":
        (folder / "views" / "poi.npy").write_text("not an array")
    elif kind in ("label nan", "label rows"):
        labels = np.load(template_city() / "labels" / "target.npy")
        labels = labels[:-3] if kind == "label rows" else np.where(labels > 0, np.nan, labels)
        np.save(folder / "labels" / "target.npy", labels)
    elif kind == "mobility shape":
        np.save(folder / "mobility.npy", np.ones((3, 5)))
    elif kind == "mobility nan":
        mobility = np.load(template_city() / "mobility.npy").astype(np.float64)
        mobility[0, 1] = np.nan
        np.save(folder / "mobility.npy", mobility)
    elif kind == "coords rows":
        lines = (folder / "coords.csv").read_text().splitlines()
        (folder / "coords.csv").write_text("\n".join(lines[:-2]) + "\n")
    elif kind == "coords range":
        (folder / "coords.csv").write_text(
            "id,lat,lon\n" + "".join(f"{i},{95 + i},{200}\n" for i in range(len(poi)))
        )
    elif kind == "contiguity range":
        (folder / "contiguity.csv").write_text(f"from,to\n0,{len(poi) + int(salt % 5)}\n")
    elif kind == "contiguity text":
        (folder / "contiguity.csv").write_text("from,to\na,b\n")
    elif kind == "tasks junk":
        (folder / "tasks.json").write_text("{not json")
    elif kind == "tasks shape":
        (folder / "tasks.json").write_text(json.dumps(["target"]))
    elif kind == "tasks unknown":
        (folder / "tasks.json").write_text(json.dumps({"ghost": {"drop_zero_labels": True}}))
    elif kind == "similarity shape":
        (folder / "similarity").mkdir(exist_ok=True)
        np.save(folder / "similarity" / "poi.npy", np.ones((len(poi) + 1, 2)))


TEMPLATE: dict[str, Path] = {}


def template_city() -> Path:
    if "city" not in TEMPLATE:
        TEMPLATE["city"], _ = city_folder(_folder() / "city", n=12)
    return TEMPLATE["city"]


@SETTINGS
@given(corruptions=city_corruptions())
def test_corrupted_city_folders_are_input_errors(corruptions):
    import shutil

    folder = _folder() / "city"
    shutil.copytree(template_city(), folder)
    for kind, salt in corruptions:
        corrupt_city(folder, kind, salt)
    _assert_input_error_only(folder, lambda: region_tensors(load_city(folder)), corruptions)


TEMPORAL_CORRUPTIONS = [
    "cell",
    "drop time column",
    "extra column",
    "duplicate node column",
    "unsorted",
    "duplicate row",
    "gap",
    "empty",
    "header only",
    "rename time",
    "ragged",
    "unknown node",
    "node without readings",
    "nodes junk",
    "protocol junk",
    "protocol field",
    "both readings",
    "npy shape",
    "mask shape",
    "huge",
]


def valid_temporal_folder(folder: Path, steps: int = 40) -> tuple[list[str], list[list[str]]]:
    folder.mkdir()
    (folder / "nodes.csv").write_text("id,x,y\na,0,0\nb,1,0\nc,0,1\n")
    header = ["timestamp", "a", "b", "c"]
    rows = [[str(3600 * t), *(f"{(t * (j + 2)) % 9:.1f}" for j in range(3))] for t in range(steps)]
    return header, rows


@SETTINGS
@given(
    corruptions=st.lists(
        st.tuples(st.sampled_from(TEMPORAL_CORRUPTIONS), st.integers(0, 10**6)),
        min_size=1,
        max_size=2,
    )
)
def test_corrupted_temporal_folders_are_input_errors(corruptions):
    from stgraph.bench.runner import load_forecast_data

    folder = _folder() / "sensors"
    header, rows = valid_temporal_folder(folder)
    for kind, salt in corruptions:
        rng = np.random.default_rng(salt)
        r, c = int(rng.integers(max(len(rows), 1))), int(rng.integers(max(len(header), 1)))
        if kind == "cell" and rows and c < len(rows[r]):
            rows[r][c] = BAD_CELLS[salt % len(BAD_CELLS)]
        elif kind == "drop time column":
            header, rows = header[1:], [row[1:] for row in rows]
        elif kind == "extra column":
            header.append(["note", "a", "d", ""][salt % 4])
            rows = [[*row, "1"] for row in rows]
        elif kind == "duplicate node column" and len(header) > 2:
            header[2] = header[1]
        elif kind == "unsorted" and len(rows) > 2:
            rows[r], rows[-1 - r] = rows[-1 - r], rows[r]
        elif kind == "duplicate row" and rows:
            rows.insert(r, list(rows[r]))
        elif kind == "gap" and len(rows) > 2:
            rows.pop(len(rows) // 2)
        elif kind == "empty":
            header, rows = [], []
        elif kind == "header only":
            rows = []
        elif kind == "rename time" and header:
            header[0] = ["when", "TIME", "", "a"][salt % 4]
        elif kind == "ragged" and rows:
            rows[r] = rows[r][:-1]
        elif kind == "unknown node" and len(header) > 1:
            header[-1] = "zz"
        elif kind == "node without readings":
            (folder / "nodes.csv").write_text("id,x,y\na,0,0\nb,1,0\nc,0,1\nd,1,1\n")
        elif kind == "nodes junk":
            (folder / "nodes.csv").write_text(["", "id\na\n", "id,x,y\na,nan,0\n"][salt % 3])
        elif kind == "protocol junk":
            (folder / "protocol.json").write_text(["{nope", "[1, 2]", '"text"'][salt % 3])
        elif kind == "protocol field":
            field = [{"ghost": 1}, {"input_len": "x"}, {"split": [1]}, {"output_len": 10**6}]
            (folder / "protocol.json").write_text(json.dumps(field[salt % 4]))
        elif kind == "both readings":
            np.save(folder / "readings.npy", np.ones((40, 3)))
        elif kind == "npy shape":
            shape = [(40,), (40, 5), (40, 3, 2, 2), (0, 3)][salt % 4]
            np.save(folder / "values.npy", np.ones(shape))
            (folder / "values.npy").rename(folder / "readings.npy")
            (folder / "timestamps.csv").write_text("\n".join(str(3600 * t) for t in range(40)))
            header = []
        elif kind == "mask shape":
            np.save(folder / "mask.npy", np.ones((7, 2), dtype=bool))
        elif kind == "huge" and rows:
            rows[r][-1] = "1e300"
    if header:
        lines = [",".join(header), *(",".join(row) for row in rows)]
        (folder / "readings.csv").write_text("\n".join(lines) + "\n")
    _assert_input_error_only(folder, lambda: load_forecast_data(str(folder), None), corruptions)
