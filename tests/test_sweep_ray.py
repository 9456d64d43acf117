"""``lutmesh sweep`` on real Ray: embedded, on a 2-node cluster, with a worker killed.

Every run happens inside ``unshare -n`` with loopback up (tests/sweep_netns.py):
Ray otherwise binds the machine's outward address, and these tests must keep all
traffic on this machine. Training is tiny so each test stays well under 2 minutes.
"""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
HELPER = Path(__file__).with_name("sweep_netns.py")
TINY = 'layers = "1x4x6,1x2x6"\nepochs = 4\npatience = 4\n'


def _netns_ok() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"],
                           capture_output=True)
    return probe.returncode == 0


needs_netns = pytest.mark.skipif(not _netns_ok(), reason="unshare -n is not permitted here "
                                 "(needs root or user namespaces): Ray must stay on loopback")


def run_in_netns(*args, timeout=170):
    cmd = ["nice", "-n", "10", "unshare", "-n", sys.executable, str(HELPER), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def rows(out: Path) -> list[dict]:
    return json.loads((out / "results.json").read_text())["trials"]


@needs_netns
def test_four_trial_iris_sweep_then_resume_runs_nothing(tmp_path):
    """The issue's acceptance sweep (K 3,4 x radius 1,global on ice40-up5k), every stage."""
    toml = tmp_path / "iris.toml"
    toml.write_text('[base]\ndataset = "iris"\ntargets = ["ice40-up5k"]\n' + TINY
                    + '[space]\nlut_inputs = [3, 4]\nradius = ["1", "global"]\n')
    out = tmp_path / "out"
    done = run_in_netns("sweep", toml, out, "--max-concurrent", "2", timeout=400)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with open(out / "results.csv") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 4 and {r["status"] for r in table} == {"ok"}
    assert {(r["lut_inputs"], r["radius"]) for r in table} == {
        ("3", "1"), ("3", "global"), ("4", "1"), ("4", "global")}
    assert all(int(r["luts"]) > 0 and float(r["fmax_mhz"]) > 0 and float(r["energy_pj"]) > 0
               for r in table)
    assert any(r["pareto"] == "True" for r in table)
    assert (out / "pareto.png").stat().st_size > 1000
    assert "data:image/png;base64," in (out / "sweep.html").read_text()
    again = run_in_netns("sweep", toml, out, "--resume")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "4 trials kept, 0 to run" in again.stdout and "0 trials run" in again.stdout


@needs_netns
def test_trials_run_on_both_nodes_of_a_two_node_cluster(tmp_path):
    toml = tmp_path / "cluster.toml"
    toml.write_text('[base]\ndataset = "iris"\nuntil = "train"\n'
                    'layers = "1x8x8,1x4x12"\nepochs = 10\npatience = 10\n'
                    '[space]\nlut_inputs = [3, 4]\nradius = ["1", "global"]\n')
    out = tmp_path / "out"
    done = run_in_netns("cluster", toml, out)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    trials = rows(out)
    assert len(trials) == 4 and {r["status"] for r in trials} == {"ok"}
    assert len({r["node"] for r in trials}) == 2, [r["node"] for r in trials]


@needs_netns
def test_a_killed_worker_is_retried_and_no_trial_is_lost(tmp_path):
    toml = tmp_path / "kill.toml"
    toml.write_text('[base]\ndataset = "iris"\nuntil = "train"\n'
                    'layers = "1x8x8,1x4x12"\nepochs = 60\npatience = 60\n'
                    '[space]\nlut_inputs = [3, 4]\n')
    out = tmp_path / "out"
    done = run_in_netns("kill", toml, out)
    killed = (out / "killed.txt").read_text().strip()
    trials = {r["trial"]: r for r in rows(out)}
    assert len(trials) == 2, done.stdout[-2000:]
    victim = trials[killed]
    # retried on a fresh worker (FailureConfig(max_failures=1)), or recorded failed
    assert (victim["status"], victim["retries"]) == ("ok", 1) or victim["status"] == "failed"
    assert all(r["status"] == "ok" for k, r in trials.items() if k != killed)
    assert done.returncode == (0 if victim["status"] == "ok" else 1)


@needs_netns
def test_optuna_tpe_with_asha_finishes_every_trial(tmp_path):
    """TPE chooses the values (lists become choices), ASHA may stop weak trials early
    from the per-epoch validation accuracy; every trial ends ok or stopped."""
    toml = tmp_path / "tpe.toml"
    toml.write_text('[base]\ndataset = "iris"\nuntil = "train"\nlayers = "1x4x6,1x2x6"\n'
                    'epochs = 8\npatience = 8\n'
                    '[space]\nlut_inputs = [3, 4]\n'
                    'learning_rate = {min = 0.01, max = 0.2, log = true}\n'
                    '[search]\nmethod = "tpe"\nnum_samples = 4\n'
                    'objectives = {accuracy = "max", nodes = "min"}\n'
                    '[scheduler]\ntype = "asha"\ngrace_period = 2\nreduction_factor = 2\n')
    out = tmp_path / "out"
    done = run_in_netns("sweep", toml, out, "--max-concurrent", "2")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    trials = rows(out)
    assert len(trials) == 4 and {r["status"] for r in trials} <= {"ok", "stopped"}
    for r in trials:
        assert r["config"]["lut_inputs"] in (3, 4)
        assert 0.01 <= r["config"]["learning_rate"] <= 0.2
    again = run_in_netns("sweep", toml, out, "--resume")
    assert "0 to run" in again.stdout
