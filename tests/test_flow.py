"""`lutmesh flow` end to end on a small dataset, then again with every stage reused."""

import json

import pytest

from lutmesh.cli import main

pytestmark = pytest.mark.slow


def test_flow_runs_every_stage_then_reuses_them(tmp_path, capsys):
    config = tmp_path / "small.toml"
    config.write_text('layers = "4x4x4,2x2x6"\nepochs = 8\npatience = 8\n')
    args = ["flow", "--dataset", "iris", "--config", str(config), "--out", str(tmp_path / "b"),
            "--target", "ice40-up5k,xilinx"]
    assert main(args) == 0
    out = capsys.readouterr().out
    for stage in ("[1/5] train", "[2/5] emit", "[3/5] verify", "[4/5] report ice40-up5k",
                  "[5/5] report xilinx"):
        assert stage in out
    assert "reused (inputs unchanged)" not in out
    assert "verify                       PASS" in out and "Fmax" in out
    summary = (tmp_path / "b" / "summary.md").read_text()
    assert "| ice40-up5k |" in summary and "| xilinx |" in summary
    report = json.loads((tmp_path / "b" / "report" / "ice40-up5k" / "report.json").read_text())
    verify = json.loads((tmp_path / "b" / "verify" / "verify.json").read_text())
    manifest = json.loads((tmp_path / "b" / "rtl" / "manifest.json").read_text())
    assert report["netlist_hash"] == verify["netlist_hash"]
    assert report["verilog_sha256"] == verify["verilog_sha256"] == manifest["verilog_sha256"]
    assert report["energy_pj_per_inference"]["total"] > 0

    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.count("reused (inputs unchanged)") == 5
    # a changed config retrains, and everything downstream follows the new netlist
    config.write_text('layers = "4x4x4,2x2x6"\nepochs = 8\npatience = 8\nseed = 1\n')
    assert main(args[:-2] + ["--target", "xilinx"]) == 0
    out = capsys.readouterr().out
    assert "reused (inputs unchanged)" not in out


def test_flow_preset_reaches_the_training_config():
    from lutmesh.errors import ConfigError
    from lutmesh.flow import flow_args, plan_flow
    from lutmesh.train.config import PRESETS

    config, _ = plan_flow(flow_args(preset="explainable", target=""))
    assert config.layers == PRESETS["explainable"]["layers"]
    config, _ = plan_flow(flow_args(preset="explainable", target=""), {"layers": "4x4x4,2x2x10"})
    assert config.layers == "4x4x4,2x2x10"  # a trial's options override the preset
    with pytest.raises(ConfigError, match="preset 'nope'"):
        plan_flow(flow_args(preset="nope", target=""))
