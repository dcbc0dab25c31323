import json

import numpy as np
import pytest
from typer.testing import CliRunner

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
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "results.json").read_text())
    models = {r["model"] for r in doc["rows"]}
    assert models == {"ridge-raw", "ridge-srel", "topt-lambda0", "topt-agnostic", "topt"}
    assert all(r["task"] == "target" and r["regions_evaluated"] == 30 for r in doc["rows"])
    assert "clean: 3-fold" in (out / "results.md").read_text()


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
        ],
    )
    assert result.exit_code == 0, result.output
    assert "no coordinates" in result.stderr and "hops" in result.stderr
    assert "PAPER protocol" in (tmp_path / "o" / "results.md").read_text()


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
    return ["--city", str(folder), "--model", "stid"], "region tasks (--city) take: topt"


@pytest.mark.parametrize(
    "case", ["unknown city", "missing view", "label length", "unknown task", "forecasting model"]
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
    assert not (out / "results.json").exists()
