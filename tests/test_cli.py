import subprocess
import sys

import pytest

from lutmesh import __version__
from lutmesh.cli import main
from lutmesh.testing import random_netlist


def run_cli(*args):
    """Run the real console entry point in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "lutmesh", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_help_lists_commands():
    r = run_cli("--help")
    assert r.returncode == 0
    for command in ("info", "train", "emit"):
        assert command in r.stdout


def test_version():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"lutmesh {__version__}"


def test_info_prints_layers(tmp_path, capsys):
    path = random_netlist(4).save(tmp_path / "m.npz")
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "nodes" in out and "classes" in out and "hash" in out


def test_info_json(tmp_path, capsys):
    import json
    net = random_netlist(5)
    path = net.save(tmp_path / "m.npz")
    assert main(["info", "--json", str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["nodes"] == net.n_nodes and data["hash"] == net.content_hash()


@pytest.mark.parametrize("content", [b"garbage", b""])
def test_info_on_garbage_is_one_line_exit_2(tmp_path, content):
    bad = tmp_path / "garbage.npz"
    bad.write_bytes(content)
    r = run_cli("info", bad)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert str(bad) in lines[0] and "not a valid netlist file" in lines[0]
    assert "Traceback" not in r.stderr


def test_debug_shows_traceback(tmp_path):
    bad = tmp_path / "garbage.npz"
    bad.write_bytes(b"garbage")
    r = run_cli("--debug", "info", bad)
    assert r.returncode == 2 and "Traceback" in r.stderr


def test_bad_usage_exits_2():
    r = run_cli("info")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = run_cli("no-such-command")
    assert r.returncode == 2


def test_verify_errors_are_one_line_and_exit_2(tmp_path, capsys):
    from lutmesh.hdl.emit import emit_verilog
    from lutmesh.testing import random_netlist

    net = random_netlist(1, features=3, layers=1, nodes_per_layer=4, classes=2)
    model = tmp_path / "m.npz"
    net.save(model)
    other = random_netlist(2, features=7, layers=1, nodes_per_layer=4, classes=2)
    emit_verilog(other, tmp_path / "other")
    (tmp_path / "empty").mkdir()
    cases = [
        (["--samples", "0"], "--samples"),
        (["--rtl", str(tmp_path / "empty")], "no manifest.json"),
        (["--rtl", str(tmp_path / "other"), "--dataset", "random"], "RTL of another model"),
        (["--dataset", "iris"], "features, the model expects"),
    ]
    for extra, message in cases:
        code = main(["verify", str(model), "--out", str(tmp_path / "v")] + extra)
        err = capsys.readouterr().err
        assert code == 2, extra
        assert message in err and len(err.strip().splitlines()) == 1, err
