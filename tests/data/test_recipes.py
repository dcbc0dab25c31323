import functools
import hashlib
import http.server
import json
import threading
import zipfile

import pytest

from stgraph.data.recipes import fetch, load_recipe
from stgraph.errors import InputError


@pytest.fixture
def http_root(tmp_path):
    """A local HTTP server on 127.0.0.1 serving a folder the test fills."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def write_recipe(path, name, files):
    path.write_text(json.dumps({"name": name, "description": "", "shape": "", "files": files}))
    return load_recipe(path)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_fetch_downloads_verifies_and_is_idempotent(http_root, tmp_path):
    served, base = http_root
    payload = b"from,to,distance\n0,1,3.5\n" * 1000
    (served / "edges.csv").write_bytes(payload)
    recipe = write_recipe(
        tmp_path / "toy.json",
        "toy",
        [
            {
                "path": "toy/edges.csv",
                "urls": [f"{base}/missing.csv", f"{base}/edges.csv"],
                "sha256": sha(payload),
                "size": len(payload),
            }
        ],
    )
    data_dir = tmp_path / "data"
    results = fetch(recipe, data_dir)
    assert results[0].action == "downloaded"
    assert (data_dir / "toy/edges.csv").read_bytes() == payload
    assert [p.name for p in (data_dir / "toy").iterdir()] == ["edges.csv"]
    assert fetch(recipe, data_dir)[0].action == "verified"


def test_wrong_checksum_leaves_nothing_behind(http_root, tmp_path):
    served, base = http_root
    (served / "edges.csv").write_bytes(b"tampered")
    recipe = write_recipe(
        tmp_path / "toy.json",
        "toy",
        [
            {
                "path": "toy/sub/edges.csv",
                "urls": [f"{base}/edges.csv"],
                "sha256": "0" * 64,
                "size": 8,
            }
        ],
    )
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with pytest.raises(InputError, match="checksum mismatch"):
        fetch(recipe, data_dir)
    assert list(data_dir.rglob("*")) == []


def test_present_file_with_wrong_checksum_is_reported(tmp_path):
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy/a.csv").write_text("placed by hand")
    recipe = write_recipe(
        tmp_path / "toy.json",
        "toy",
        [{"path": "toy/a.csv", "urls": [], "sha256": sha(b"other"), "size": 5}],
    )
    with pytest.raises(InputError, match="present but its sha256"):
        fetch(recipe, tmp_path)


def test_zip_member_is_extracted_and_both_checksums_checked(http_root, tmp_path):
    served, base = http_root
    member = b"time,offense,lat,lon\n" * 50
    with zipfile.ZipFile(served / "crime.zip", "w") as zf:
        zf.writestr("Crime.csv", member)
    archive = (served / "crime.zip").read_bytes()
    recipe = write_recipe(
        tmp_path / "z.json",
        "z",
        [
            {
                "path": "z/Crime.csv",
                "urls": [f"{base}/crime.zip"],
                "sha256": sha(member),
                "size": len(member),
                "unzip": {
                    "member": "Crime.csv",
                    "archive_sha256": sha(archive),
                    "archive_size": len(archive),
                },
            }
        ],
    )
    fetch(recipe, tmp_path / "data")
    assert (tmp_path / "data/z/Crime.csv").read_bytes() == member
    assert [p.name for p in (tmp_path / "data/z").iterdir()] == ["Crime.csv"]


def test_file_without_checksum_is_manual_unless_allowed(http_root, tmp_path):
    served, base = http_root
    (served / "r.h5").write_bytes(b"readings")
    recipe = write_recipe(
        tmp_path / "m.json",
        "m",
        [
            {
                "path": "m/r.h5",
                "urls": [f"{base}/r.h5"],
                "sha256": None,
                "size": None,
                "optional": True,
            }
        ],
    )
    assert fetch(recipe, tmp_path / "d")[0].action == "manual"
    assert not (tmp_path / "d/m/r.h5").exists()
    result = fetch(recipe, tmp_path / "d", allow_unverified=True)[0]
    assert result.action == "downloaded" and result.sha256 == sha(b"readings")


def test_builtin_recipes_verify_the_shared_files(shared_data):
    results = fetch(load_recipe("chicago-crime"), shared_data)
    assert [r.action for r in results] == ["verified"] * 3


def test_named_protocols_replace_fields_but_never_the_null_value():
    from stgraph.data.recipes import recipe_names

    for name in recipe_names():
        recipe = load_recipe(name)
        for overrides in recipe.protocols.values():
            assert "null_value" not in overrides, name
    bike = load_recipe("nyc-flows-bike1")
    demand = bike.forecasting_protocol("st-llm")
    assert (demand.output_len, demand.score_above) == (12, 0.0) and "WAPE" in demand.metrics
    assert demand.split == bike.forecasting_protocol().split
    with pytest.raises(InputError, match="named protocols: st-llm"):
        bike.forecasting_protocol("dcrnn")
