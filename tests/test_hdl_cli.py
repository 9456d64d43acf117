"""`lutmesh emit`: options checked against the model, one-line errors, nothing half-written."""

import json

import pytest

from lutmesh.cli import main
from lutmesh.testing import random_netlist


def test_emit_cli(tmp_path, capsys):
    model = random_netlist(24).save(tmp_path / "m.npz")
    assert main(["emit", str(model), "--out", str(tmp_path / "rtl")]) == 0
    assert "latency" in capsys.readouterr().out
    assert main(["emit", str(model), "--out", str(tmp_path / "x"), "--top", "9bad"]) == 2
    assert main(["emit", str(model), "--out", str(tmp_path / "x"), "--readout-stages", "99"]) == 2
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("args, message", [
    (["--top", "9bad"], "--top '9bad': not a Verilog identifier"),
    (["--layers-per-stage", "0"], "--layers-per-stage 0: expected >= 1"),
    (["--readout-stages", "0"], "--readout-stages 0: expected 1.."),
])
def test_each_bad_option_is_named_in_one_line(tmp_path, capsys, args, message):
    model = random_netlist(24).save(tmp_path / "m.npz")
    assert main(["emit", str(model), "--out", str(tmp_path / "x")] + args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_options_reach_the_manifest(tmp_path, capsys):
    model = random_netlist(25, layers=3).save(tmp_path / "m.npz")
    assert main(["emit", str(model), "--out", str(tmp_path / "r"), "--top", "core",
                 "--layers-per-stage", "2", "--scores"]) == 0
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["top"] == "core" and manifest["file"] == "core.v"
    assert manifest["options"] == {"top": "core", "layers_per_stage": 2, "readout_stages": None,
                                   "with_scores": True}
    assert [o["name"] for o in manifest["outputs"]] == ["cls", "scores"]
    capsys.readouterr()
