"""Building and running the emitted Verilog on Verilator, through cocotb's runner.

Builds are cached: the build directory is named by a hash of the Verilog text,
the trace kind and the tool versions, so re-verifying an unchanged netlist (or
re-running the flow) does not recompile. The cache lives in
``$LUTMESH_CACHE_DIR`` (default ``~/.cache/lutmesh``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

from ..errors import ToolError
from ..tools import tool_env

__all__ = ["SimBuild", "build_simulator", "run_testbench", "cache_dir", "TRACE_KINDS"]

TRACE_KINDS = (None, "saif", "vcd")
TESTBENCH_MODULE = "lutmesh.sim.testbench"
CXX_OPT = "OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0"


def cache_dir() -> Path:
    root = os.environ.get("LUTMESH_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "lutmesh"


def _runner_class():
    from cocotb_tools.runner import Verilator

    class TracingVerilator(Verilator):
        """cocotb's Verilator runner, with the trace format chosen by us.

        The stock runner always asks for VCD when ``waves`` is on; switching
        activity needs Verilator's ``--trace-saif`` instead (per-net toggle counts,
        far smaller than a VCD of a whole test set).
        """

        trace_kind: str | None = None

        def _build_command(self):
            cmds = super()._build_command()
            if self.trace_kind == "saif":
                cmds[0] = ["--trace-saif" if a == "--trace" else a for a in cmds[0]]
            return cmds

    return TracingVerilator


@contextmanager
def _environment(env: dict):
    """cocotb's runner builds with ``os.environ``: put our tool settings there, briefly."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class SimBuild:
    """A compiled Verilator model of one Verilog file (cached on disk)."""

    def __init__(self, verilog: Path, top: str, trace: str | None, build_dir: Path,
                 seconds: float, cached: bool):
        self.verilog, self.top, self.trace = verilog, top, trace
        self.build_dir, self.build_seconds, self.cached = build_dir, seconds, cached


def _build_key(verilog_text: bytes, top: str, trace: str | None) -> str:
    h = hashlib.sha256(verilog_text)
    for part in (top, str(trace), version("verilator"), version("cocotb"), CXX_OPT):
        h.update(b"\0" + part.encode())
    return h.hexdigest()[:20]


def build_simulator(verilog: str | Path, top: str, *, trace: str | None = None,
                    log=None) -> SimBuild:
    """Compile ``verilog`` (top module ``top``) with Verilator, or reuse the cached build."""
    if trace not in TRACE_KINDS:
        raise ValueError(f"trace = {trace!r}: expected one of {TRACE_KINDS}")
    verilog = Path(verilog).resolve()
    key = _build_key(verilog.read_bytes(), top, trace)
    build_dir = cache_dir() / "verilator" / key
    stamp = build_dir / "lutmesh.built"
    if stamp.exists() and (build_dir / top).exists():
        return SimBuild(verilog, top, trace, build_dir, 0.0, True)
    if build_dir.exists():
        shutil.rmtree(build_dir)  # a half-finished build from an interrupted run
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    runner = _runner_class()()
    runner.trace_kind = trace
    if log:
        log(f"building Verilator model ({verilog.stat().st_size // 1024} KiB of Verilog, "
            f"trace {trace or 'off'}) in {build_dir}")
    t0 = time.perf_counter()
    # Amaranth's Verilog is lint-clean up to width/naming style; those warnings
    # would otherwise stop the build.
    args = ["-Wno-fatal", "-Wno-WIDTHEXPAND", "-Wno-WIDTHTRUNC", "-Wno-DECLFILENAME",
            "-Wno-PROCASSINIT", "-Wno-UNUSEDSIGNAL", "--x-assign", "fast", "--x-initial", "fast",
            "-O3"]
    env = tool_env()
    # The C++ compile dominates build time (minutes at -Os for a few thousand
    # nodes, about a third of that at -O0), while simulation speed is bound by the
    # Python testbench, not by the model: compile unoptimised.
    env["MAKEFLAGS"] = f"{env.get('MAKEFLAGS', '')} {CXX_OPT}".strip()
    try:
        with _environment(env):
            runner.build(sources=[verilog], hdl_toplevel=top, build_dir=build_dir,
                         build_args=args, waves=trace is not None, timescale=("1ns", "1ps"),
                         log_file=build_dir.parent / f"{key}.build.log")
    except (SystemExit, Exception) as exc:  # the runner signals tool failure with SystemExit
        raise ToolError(f"Verilator build failed ({exc}); log: "
                        f"{build_dir.parent / f'{key}.build.log'}") from None
    seconds = time.perf_counter() - t0
    stamp.write_text(f"{seconds:.2f}\n")
    return SimBuild(verilog, top, trace, build_dir, seconds, False)


def run_testbench(build: SimBuild, job_path: Path, result_path: Path, work_dir: Path, *,
                  trace_file: Path | None = None, test_module: str = TESTBENCH_MODULE,
                  env_prefix: str = "LUTMESH_VERIFY") -> float:
    """Run a cocotb testbench on a build; return the simulator's wall seconds.

    The testbench finds its job and result files in ``{env_prefix}_JOB`` and
    ``{env_prefix}_RESULT``.
    """
    runner = _runner_class()()
    runner.trace_kind = build.trace
    # the simulator runs in ``work_dir``: a relative path (``--out build``) would not
    # be found from there
    job_path, result_path, work_dir = (Path(p).resolve() for p in (job_path, result_path,
                                                                   work_dir))
    if trace_file is not None:
        trace_file = Path(trace_file).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    env = {f"{env_prefix}_JOB": str(job_path), f"{env_prefix}_RESULT": str(result_path),
           "COCOTB_LOG_LEVEL": os.environ.get("COCOTB_LOG_LEVEL", "WARNING")}
    test_args = []
    if build.trace is not None and trace_file is not None:
        test_args = ["--trace", "--trace-file", str(trace_file)]
    if result_path.exists():
        result_path.unlink()
    t0 = time.perf_counter()
    try:
        with _environment(tool_env()):
            runner.test(test_module=test_module, hdl_toplevel=build.top,
                        hdl_toplevel_lang="verilog",
                        build_dir=build.build_dir, test_dir=work_dir, extra_env=env,
                        test_args=test_args, results_xml=str(work_dir / "results.xml"),
                        log_file=work_dir / "sim.log")
    except (SystemExit, Exception) as exc:
        raise ToolError(f"simulation failed ({exc}); log: {work_dir / 'sim.log'}") from None
    seconds = time.perf_counter() - t0
    if not result_path.exists():
        raise ToolError(f"the testbench wrote no results; log: {work_dir / 'sim.log'}")
    return seconds
