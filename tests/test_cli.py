import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from stgraph.cli import app
from stgraph.data.io import load_graph

runner = CliRunner()

POINTS = "id,lat,lon\na,41.88,-87.63\nb,41.89,-87.62\nc,41.90,-87.65\nd,41.87,-87.66\n"


def write(path, text):
    path.write_text(text)
    return path


def bad_inputs(tmp_path):
    """(name, argv) pairs; each must fail with one line, exit 2 and no output file."""
    pts = write(tmp_path / "pts.csv", POINTS)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    np.save(tmp_path / "od.npy", np.ones((3, 4)))
    return [
        ("missing file", [str(tmp_path / "nope.csv"), "--knn", "2"]),
        ("unreadable csv", [str(binary), "--knn", "2"]),
        ("empty csv", [str(write(tmp_path / "empty.csv", "")), "--knn", "2"]),
        (
            "no coordinates",
            [str(write(tmp_path / "nc.csv", "id,a,b\nx,1,2\ny,3,4\n")), "--knn", "1"],
        ),
        (
            "nan latitude",
            [str(write(tmp_path / "nan.csv", "id,lat,lon\nx,nan,1\ny,3,4\n")), "--knn", "1"],
        ),
        (
            "latitude out of range",
            [str(write(tmp_path / "oor.csv", "id,lat,lon\nx,95,1\ny,3,4\n")), "--knn", "1"],
        ),
        (
            "duplicate ids",
            [str(write(tmp_path / "dup.csv", "id,lat,lon\nx,1,1\nx,3,4\n")), "--knn", "1"],
        ),
        ("k too large", [str(pts), "--knn", "4"]),
        ("non-square od", [str(tmp_path / "od.npy"), "--od"]),
        ("negative distance", [str(write(tmp_path / "neg.csv", "from,to,distance\n0,1,-3\n"))]),
        ("no method", [str(pts)]),
        ("bad centrality", [str(pts), "--knn", "1", "--centrality", "fame"]),
        ("missing output folder", [str(pts), "--knn", "1", "-o", str(tmp_path / "no/dir/g.pt")]),
    ]


def assert_one_line_error(result, *needles):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output + result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize("case", range(13))
def test_build_graph_bad_input(tmp_path, case):
    name, argv = bad_inputs(tmp_path)[case]
    out = tmp_path / "out.pt"
    if "-o" not in argv:
        argv = [*argv, "-o", str(out)]
    result = runner.invoke(app, ["build-graph", *argv])
    assert_one_line_error(result)
    assert not out.exists(), name
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*.part"))


def test_build_graph_knn_with_priors(tmp_path):
    pts = write(tmp_path / "pts.csv", POINTS)
    out = tmp_path / "g.pt"
    result = runner.invoke(
        app,
        [
            "build-graph",
            str(pts),
            "--knn",
            "2",
            "--centrality",
            "degree,pagerank,betweenness,closeness",
            "--max-hops",
            "2",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = load_graph(out)
    assert data.num_edges == 8 and data.node_id == ["a", "b", "c", "d"]
    assert data.coord_system == "lonlat" and data.edge_attr.shape == (8, 1)
    assert data.centrality_betweenness.shape == (4,) and data.hop_count.max() <= 2


def test_build_graph_from_polygons_and_od(tmp_path):
    from tests.data.test_polygons import square_grid_geojson

    geo = square_grid_geojson(tmp_path / "grid.geojson", 2, 2)
    result = runner.invoke(app, ["build-graph", str(geo), "-o", str(tmp_path / "r.pt")])
    assert result.exit_code == 0, result.output
    assert load_graph(tmp_path / "r.pt").num_edges == 12  # 2x2 queen: all 6 pairs, both ways
    write(tmp_path / "od.csv", "0,5,0\n2,0,1\n0,0,0\n")
    result = runner.invoke(
        app, ["build-graph", str(tmp_path / "od.csv"), "--od", "-o", str(tmp_path / "od.pt")]
    )
    assert result.exit_code == 0, result.output
    assert load_graph(tmp_path / "od.pt").edge_weight.tolist() == [5, 2, 1]


def test_pems_bay_reproduction_from_the_command_line(shared_data, tmp_path):
    from stgraph.data.tables import read_matrix

    out = tmp_path / "bay.pt"
    result = runner.invoke(
        app,
        [
            "build-graph",
            str(shared_data / "pems_bay/distances_bay_2017.csv"),
            "--ids",
            str(shared_data / "pems_bay/graph_sensor_locations_bay.csv"),
            "--gaussian",
            "--threshold",
            "0.1",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = load_graph(out)
    reference, _ = read_matrix(shared_data / "pems_bay/adj_mx_bay.pkl")
    dense = np.zeros_like(reference)
    dense[data.edge_index[0].numpy(), data.edge_index[1].numpy()] = data.edge_weight.numpy()
    assert data.num_edges == np.count_nonzero(reference) == 2694
    assert np.abs(dense - reference).max() <= 1e-6
    assert data.pos.shape == (325, 2)


def test_data_list_and_info(shared_data):
    result = runner.invoke(app, ["data", "list", "--data-dir", str(shared_data)])
    assert result.exit_code == 0
    for name in ("los-loop", "metr-la", "nyc-complaints", "chicago", "etth2"):
        assert name in result.output
    assert "graph only" in result.output and "present" in result.output
    info = runner.invoke(app, ["data", "info", "chicago-crime", "--data-dir", str(shared_data)])
    assert info.exit_code == 0 and "731" in info.output and "input_len=30" in info.output


@pytest.mark.parametrize("command", [["data", "info", "nope"], ["data", "fetch", "nope"]])
def test_unknown_dataset_name(command):
    assert_one_line_error(
        runner.invoke(app, command),
        "unknown dataset 'nope'" if command[1] == "info" else "no recipe for 'nope'",
    )


def test_console_script_exit_status_and_single_line(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stgraph.cli",
            "build-graph",
            str(tmp_path / "missing.csv"),
            "--knn",
            "3",
            "-o",
            str(tmp_path / "x.pt"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: file not found: {tmp_path / 'missing.csv'}"
