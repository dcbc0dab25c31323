import json

import numpy as np
import pytest
from typer.testing import CliRunner

from stgraph.bench.regions import REGION_MODELS
from stgraph.cli import app
from stgraph.data.synthetic import synthetic_regions
from tests.test_cli import assert_one_line_error

runner = CliRunner()


def city_folder(root, n=30, coords=True):
    data = synthetic_regions(num_regions=n, seed=4)
    (root / "views").mkdir(parents=True)
    (root / "labels").mkdir()
    np.save(root / "views" / "poi.npy", data.x_poi.numpy())
    np.save(root / "labels" / "target.npy", data.y_target.numpy())
    np.save(root / "mobility.npy", data.x_mobility.numpy())
    if coords:
        lines = ["id,lat,lon"] + [
            f"{i},{lat:.6f},{lon:.6f}" for i, (lon, lat) in enumerate(data.pos.tolist())
        ]
        (root / "coords.csv").write_text("\n".join(lines) + "\n")
    return root, data


def test_city_folder_end_to_end_with_precomputed_prompt_vectors(tmp_path):
    folder, data = city_folder(tmp_path / "mycity")
    rng = np.random.default_rng(0)
    for name in ("target", "none"):
        np.save(tmp_path / f"vec_{name}.npy", rng.normal(size=(data.num_nodes, 8)))
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "bench",
            "--model",
            "topt",
            "--city",
            str(folder),
            "--folds",
            "3",
            "--seeds",
            "0",
            "--prompt-vectors",
            str(tmp_path / "vec_{task}.npy"),
            "--out",
            str(out),
            "--no-progress",
            "--encoder-epochs",
            "20",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "results.json").read_text())
    models = {r["model"] for r in doc["rows"]}
    assert models == set(REGION_MODELS)
    assert all(r["task"] == "target" and r["regions_evaluated"] == 30 for r in doc["rows"])
    assert all(r["protocol_settings"]["folds"] == 3 for r in doc["rows"])
    text = (out / "results.md").read_text()
    assert "3-fold CV (shuffled" in text and "strongest baseline" in text
    assert "strongest baseline" in result.stdout


def test_without_coordinates_the_output_says_hops_are_used(tmp_path):
    folder, data = city_folder(tmp_path / "nocoords", coords=False)
    for name in ("target", "none"):
        np.save(tmp_path / f"v_{name}.npy", np.ones((data.num_nodes, 4)))
    result = runner.invoke(
        app,
        [
            "bench",
            "--model",
            "topt",
            "--city",
            str(folder),
            "--folds",
            "3",
            "--prompt-vectors",
            str(tmp_path / "v_{task}.npy"),
            "--out",
            str(tmp_path / "o"),
            "--no-progress",
            "--protocol",
            "paper",
            "--encoder-epochs",
            "20",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "no coordinates" in result.stderr and "hops" in result.stderr
    assert "TEST fold" in (tmp_path / "o" / "results.md").read_text()


def bad_city(tmp_path, case):
    if case == "unknown city":
        return ["--city", "atlantis"], "known cities: chicago, nyc"
    folder, _ = city_folder(tmp_path / "c")
    if case == "missing view":
        (folder / "views" / "poi.npy").unlink()
        return ["--city", str(folder)], "holds no .npy view file"
    if case == "label length":
        np.save(folder / "labels" / "target.npy", np.ones(7))
        return ["--city", str(folder)], "has 7 values but the views have 30 regions"
    if case == "unknown task":
        return ["--city", str(folder), "--tasks", "noise"], "unknown task 'noise'"
    if case == "NaN view":
        poi = np.load(folder / "views" / "poi.npy")
        poi[3, 1] = np.nan
        np.save(folder / "views" / "poi.npy", poi)
        return ["--city", str(folder)], "view 'poi' holds NaN, infinite or non-numeric values"
    if case == "infinite mobility":
        mobility = np.load(folder / "mobility.npy")
        mobility[0, 0] = np.inf
        np.save(folder / "mobility.npy", mobility)
        return ["--city", str(folder)], "matrix 'mobility' holds NaN, infinite"
    if case == "bad tasks.json":
        (folder / "tasks.json").write_text('{"target": {"drop_zeros": true}}')
        return ["--city", str(folder)], "unknown setting 'drop_zeros' for task 'target'"
    if case == "forecasting flag":
        return ["--city", str(folder), "--epochs", "5"], "--epochs applies only to forecasting"
    if case == "missing prompt file":  # fails after the output folder was made
        return ["--city", str(folder), "--encoder-epochs", "2"], "no prompt-vector file"
    return ["--city", str(folder), "--model", "stid"], "region tasks (--city) take: topt"


@pytest.mark.parametrize(
    "case",
    [
        "unknown city",
        "missing view",
        "label length",
        "unknown task",
        "forecasting model",
        "NaN view",
        "infinite mobility",
        "bad tasks.json",
        "forecasting flag",
        "missing prompt file",
    ],
)
def test_bad_region_input(tmp_path, case):
    argv, needle = bad_city(tmp_path, case)
    if "--model" not in argv:
        argv = ["--model", "topt", *argv]
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "bench",
            *argv,
            "--out",
            str(out),
            "--no-progress",
            "--prompt-vectors",
            str(tmp_path / "v_{task}.npy"),
        ],
    )
    assert_one_line_error(result, needle)
    assert not out.exists()  # nothing written, not even an empty folder


def test_region_flags_are_rejected_for_forecasting_runs(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["bench", "--model", "stid", "--dataset", "synthetic", "--folds", "5", "--out", str(out)],
    )
    assert_one_line_error(result, "--folds applies only to region tasks")
    assert not out.exists()


def test_zero_labels_are_dropped_where_the_city_folder_says_so(tmp_path):
    folder, data = city_folder(tmp_path / "zeros")
    labels = data.y_target.numpy().copy()
    labels[:4] = 0
    np.save(folder / "labels" / "target.npy", labels)
    np.save(folder / "labels" / "other.npy", labels)
    (folder / "tasks.json").write_text('{"target": {"drop_zero_labels": true}}')
    rng = np.random.default_rng(0)
    for name in ("target", "other", "none"):
        np.save(tmp_path / f"v_{name}.npy", rng.normal(size=(data.num_nodes, 4)))
    out = tmp_path / "out"
    argv = ["bench", "--model", "topt", "--city", str(folder), "--folds", "3", "--seeds", "0"]
    argv += ["--prompt-vectors", str(tmp_path / "v_{task}.npy"), "--out", str(out)]
    result = runner.invoke(app, [*argv, "--no-progress", "--encoder-epochs", "5"])
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert {r["regions_evaluated"] for r in rows if r["task"] == "target"} == {26}
    assert {r["regions_evaluated"] for r in rows if r["task"] == "other"} == {30}
    assert "left out of: target" in (out / "results.md").read_text()
