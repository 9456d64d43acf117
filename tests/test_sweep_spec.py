"""Sweep files, trial planning, the Pareto front and the result files (no Ray needed)."""

import json

import pytest

from lutmesh.cli import main
from lutmesh.errors import ConfigError
from lutmesh.sweep.results import load_results, pareto_keys, progress_table, write_results
from lutmesh.sweep.spec import load_sweep, plan_trials, trial_key

MINIMAL = """[base]
dataset = "iris"
targets = ["ice40-up5k"]
[space]
lut_inputs = [3, 4]          # a list: grid values
radius = ["1", "global"]
"""


def sweep_file(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


def test_the_issues_minimal_sweep_file_is_a_four_point_grid(tmp_path):
    spec = load_sweep(sweep_file(tmp_path, MINIMAL))
    assert spec.flow == {"dataset": "iris", "target": "ice40-up5k"}
    assert spec.until == "report" and spec.method == "grid" and spec.base == {}
    plan = plan_trials(spec)
    assert plan == [{"lut_inputs": 3, "radius": "1"}, {"lut_inputs": 3, "radius": "global"},
                    {"lut_inputs": 4, "radius": "1"}, {"lut_inputs": 4, "radius": "global"}]
    assert len({trial_key(v) for v in plan}) == 4
    assert trial_key(plan[0]).startswith("k3_r1-")


def test_random_plans_are_seeded_and_sample_choices_and_ranges(tmp_path):
    text = MINIMAL + ('learning_rate = {min = 0.01, max = 0.1, log = true}\n'
                      'thermometer_bits = {choice = [2, 4, 8]}\nepochs = {min = 2, max = 6}\n'
                      '[search]\nmethod = "random"\nnum_samples = 6\nseed = 3\n')
    spec = load_sweep(sweep_file(tmp_path, text))
    plan = plan_trials(spec)
    assert plan == plan_trials(spec) and 1 < len(plan) <= 6
    for v in plan:
        assert 0.01 <= v["learning_rate"] <= 0.1 and v["thermometer_bits"] in (2, 4, 8)
        assert isinstance(v["epochs"], int) and 2 <= v["epochs"] <= 6
        assert v["lut_inputs"] in (3, 4) and v["radius"] in ("1", "global")


def test_grid_repeats_sample_the_non_grid_values_per_point(tmp_path):
    text = MINIMAL + 'seed = {choice = [0, 1, 2, 3, 4, 5, 6, 7]}\n[search]\nnum_samples = 3\n'
    plan = plan_trials(load_sweep(sweep_file(tmp_path, text)))
    assert 4 < len(plan) <= 12 and {v["lut_inputs"] for v in plan} == {3, 4}


@pytest.mark.parametrize("text, message", [
    ("[space]\n", "[space] is empty"),
    ("[base]\n[space]\nk = 3\n", "space.k = 3: expected a list"),
    ("[space]\nk = {min = 4, max = 2}\n", "space.k: expected 0 < min < max"),
    ("[space]\nk = [3]\n[search]\nmethod = \"bayes\"\n", "search.method = 'bayes'"),
    ("[space]\nk = [3]\n[search]\nobjectives = {speed = \"max\"}\n", "search.objectives.speed"),
    ("[space]\nk = [3]\n[scheduler]\ntype = \"pbt\"\n", "only \"asha\""),
    ("[space]\nk = [3]\n[extra]\n", "unknown table(s) extra"),
    ("[space\n", "not valid TOML"),
])
def test_bad_sweep_files_are_one_line_config_errors(tmp_path, text, message):
    with pytest.raises(ConfigError, match=None) as info:
        load_sweep(sweep_file(tmp_path, text))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_bad_option_in_the_space_is_caught_before_ray_starts(tmp_path, capsys):
    path = sweep_file(tmp_path, MINIMAL.replace("radius = [", "lut_input = [9, ") )
    assert main(["sweep", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "unknown option 'lut_input'" in capsys.readouterr().err


def test_a_scheduler_without_a_validation_split_is_refused_before_ray_starts(tmp_path, capsys):
    text = ('[base]\ndataset = "digits"\nuntil = "train"\n[space]\nlut_inputs = [3, 4]\n'
            '[scheduler]\ntype = "asha"\n')
    assert main(["sweep", str(sweep_file(tmp_path, text)), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "holds no data out" in err and "set validation_fraction in [base]" in err
    assert not (tmp_path / "o" / "trials").exists()
    fixed = text.replace('until = "train"\n', 'until = "train"\nvalidation_fraction = 0.1\n')
    from lutmesh.sweep.runner import _check
    from lutmesh.sweep.spec import load_sweep

    spec = load_sweep(sweep_file(tmp_path, fixed))
    _check(spec, plan_trials(spec))  # no error


def test_without_the_extra_sweep_names_it(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ray" else real(name, *a))
    assert main(["sweep", str(sweep_file(tmp_path, MINIMAL))]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("lutmesh sweep: error: lutmesh sweep needs ray: "
                           "pip install 'lutmesh[sweep]'")


def test_pareto_front_keeps_the_non_dominated_trials():
    rows = [{"trial": "a", "status": "ok", "accuracy": 0.9, "luts": 100},
            {"trial": "b", "status": "ok", "accuracy": 0.8, "luts": 50},
            {"trial": "c", "status": "ok", "accuracy": 0.8, "luts": 120},   # beaten by a
            {"trial": "d", "status": "failed", "accuracy": None, "luts": None},
            {"trial": "e", "status": "ok", "accuracy": 0.9, "luts": 100}]   # tie with a
    assert pareto_keys(rows, {"accuracy": "max", "luts": "min"}) == {"a", "b", "e"}


def test_results_files_round_trip_and_show_every_trial(tmp_path):
    spec = load_sweep(sweep_file(tmp_path, MINIMAL))
    rows = [{"trial": "k3_r1-x", "status": "ok", "config": {"lut_inputs": 3, "radius": "1"},
             "accuracy": 0.9, "luts": 90, "fmax_mhz": 100.0, "energy_pj": 50.0, "wall_s": 3.0},
            {"trial": "k4_r1-y", "status": "failed", "config": {"lut_inputs": 4, "radius": "1"},
             "error": "ToolError: nextpnr failed"}]
    write_results(tmp_path / "out", spec, rows)
    assert set(load_results(tmp_path / "out")) == {"k3_r1-x", "k4_r1-y"}
    csv_text = (tmp_path / "out" / "results.csv").read_text().splitlines()
    assert csv_text[0].startswith("trial,status,pareto,lut_inputs,radius,accuracy")
    assert csv_text[1].startswith("k3_r1-x,ok,True,3,1,0.9")
    assert "ToolError: nextpnr failed" in csv_text[2]
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["objectives"] == {"accuracy": "max", "luts": "min"}
    assert (tmp_path / "out" / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    assert "k4_r1-y" in progress_table(rows) and "90.0%" in progress_table(rows)


def test_a_trial_runs_the_flow_and_a_failing_one_is_recorded_not_raised(tmp_path):
    from lutmesh.sweep.trial import run_trial

    tiny = {"layers": "1x4x6,1x2x6", "epochs": 3, "patience": 3}
    epochs = []
    row = run_trial({"dataset": "iris"}, "train", {**tiny, "lut_inputs": 3},
                    tmp_path / "ok", on_epoch=epochs.append)
    assert row["status"] == "ok" and row["nodes"] > 0 and 0 <= row["accuracy"] <= 1
    assert [e["epoch"] for e in epochs] == [1, 2, 3] and "val_hard_accuracy" in epochs[0]
    assert "[1/1] train" in (tmp_path / "ok" / "flow.log").read_text()
    again = run_trial({"dataset": "iris"}, "train", {**tiny, "lut_inputs": 3}, tmp_path / "ok")
    assert "reused (inputs unchanged)" in (tmp_path / "ok" / "flow.log").read_text()
    assert again["accuracy"] == row["accuracy"]
    bad = run_trial({"dataset": str(tmp_path / "missing.csv")}, "train", tiny, tmp_path / "bad")
    assert bad["status"] == "failed" and "missing.csv" in bad["error"]
    assert json.loads((tmp_path / "bad" / "trial.json").read_text())["status"] == "failed"
