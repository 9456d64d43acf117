"""`lutmesh build` and `lutmesh run`: usage errors are one line, exit 2."""

from lutmesh.cli import main
from lutmesh.testing import random_netlist


def test_build_and_run_usage_errors(tmp_path, capsys):
    assert main(["build", "--list-boards"]) == 0
    assert "ulx3s-85f" in capsys.readouterr().out
    assert main(["build", "--board", "icebreaker"]) == 2
    model = random_netlist(2).save(tmp_path / "m.npz")
    assert main(["run", str(model), "--port", str(tmp_path / "no-such-tty")]) == 2
    assert "cannot open it" in capsys.readouterr().err
    assert main(["run", str(model), "--port", "x", "--samples", "0"]) == 2
    assert main(["build", str(model), "--board", "icebreaker", "--baud", "12"]) == 2
