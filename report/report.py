"""``report``: resources, timing and energy of one model on one target.

Writes ``report.json`` (the contract the flow and people read), ``report.md`` (a
table) and PNG charts next to them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ..files import atomic_write_json, atomic_write_text, sha256_of
from ..netlist import Netlist
from ..stages import stage_sort_key
from ..tools import package_version
from .energy import estimate_energy
from .synth import place_and_route, synthesize
from .targets import Target

__all__ = ["make_report", "is_current", "DEFAULT_FREQ_MHZ"]

DEFAULT_FREQ_MHZ = {"ice40": 100.0, "ecp5": 200.0}


def make_report(net: Netlist, rtl_dir: str | Path, target: Target, out_dir: str | Path, *,
                freq_mhz: float | None = None, activity: dict | None = None, seed: int = 1,
                log=print) -> dict:
    """Synthesise (and place and route) the Verilog emitted into ``rtl_dir``; write the report.

    ``rtl_dir`` holds ``lutmesh emit``'s Verilog and manifest: the report measures that
    file (its sha256 is recorded), with the latency its manifest states.
    """
    from ..hdl.emit import load_rtl

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    verilog, manifest = load_rtl(rtl_dir)
    t0 = time.perf_counter()
    synth = synthesize(verilog, manifest, target, out_dir / "work", log=log)
    freq = freq_mhz or DEFAULT_FREQ_MHZ.get(target.family)
    pnr = None
    if target.pnr_tool:
        pnr = place_and_route(target, synth, out_dir / "work", freq, seed=seed, log=log)
    report = _report_dict(net, target, synth, pnr, activity, int(manifest["latency_cycles"]))
    report.update(
        verilog_sha256=sha256_of(verilog), emit_options=manifest.get("options"),
        target_mhz=freq if pnr else None, seed=seed if pnr else None,
        seconds={"synthesis": round(synth.seconds, 1),
                 "place_and_route": round(pnr.seconds, 1) if pnr else None,
                 "total": round(time.perf_counter() - t0, 1)})
    atomic_write_json(out_dir / "report.json", report)
    from .charts import energy_chart, resources_chart

    files = [resources_chart(report, out_dir / "resources.png")]
    if report["energy_pj_per_inference"]["total"] is not None:
        files.append(energy_chart(report, out_dir / "energy.png"))
    atomic_write_text(out_dir / "report.md", report_markdown(report, [f.name for f in files]))
    return report


def _report_dict(net: Netlist, target: Target, synth, pnr, activity, latency: int) -> dict:
    """Resources per stage, timing and energy: the body of ``report.json``."""
    from ..hdl.emit import tool_versions

    stages = {k: synth.by_stage[k] for k in sorted(synth.by_stage, key=stage_sort_key)}
    fmax = pnr.fmax_mhz if pnr else None
    energy = estimate_energy(target.family, activity,
                             {k: v for k, v in stages.items() if k != "harness"},
                             synth.totals.get("ffs", 0), fmax)
    versions = dict(tool_versions(), yosys=synth.yosys_version)
    if pnr:
        versions[target.pnr_tool] = package_version(target.pnr_tool)
    luts = synth.totals.get("luts", 0)
    return {
        "target": target.name,
        "description": target.description,
        "lut_unit": target.lut_unit,
        "luts": luts,
        "ffs": synth.totals.get("ffs", 0),
        "carries": synth.totals.get("carries", 0),
        "brams": synth.totals.get("brams", 0),
        "luts_by_stage": {k: v["luts"] for k, v in stages.items() if k != "harness"},
        "cells_by_stage": stages,
        "stage_counting": "Yosys stat per module of a -noflatten synthesis (hierarchy kept); "
                          "'harness' is the few-pin wrapper for place and route, not the model",
        "design_cells": synth.flat_cells,
        "capacity_luts": target.capacity_luts,
        "fits": (luts + stages.get("harness", {}).get("luts", 0) <= target.capacity_luts)
                if target.capacity_luts else None,
        "fmax_mhz": round(fmax, 2) if fmax else None,
        "fmax_by_clock": pnr.fmax_by_clock if pnr else None,
        "utilisation": pnr.utilisation if pnr else None,
        "latency_cycles": latency,
        "latency_ns": round(latency * 1000 / fmax, 2) if fmax else None,
        "throughput_inferences_per_s": round(fmax * 1e6) if fmax else None,
        "energy_pj_per_inference": energy,
        "accuracy_test": net.meta.get("accuracy", {}).get("test"),
        "nodes": net.n_nodes,
        "netlist_hash": net.content_hash(),
        "tool_versions": versions,
    }


def is_current(out_dir: str | Path, manifest: dict, *, freq_mhz: float | None = None,
               seed: int = 1) -> bool:
    """Whether ``out_dir/report.json`` measured this emitted Verilog at these settings."""
    try:
        rep = json.loads((Path(out_dir) / "report.json").read_text())
    except (OSError, ValueError):
        return False
    return (rep.get("verilog_sha256") == manifest.get("verilog_sha256") is not None
            and (freq_mhz is None or rep.get("target_mhz") in (None, freq_mhz))
            and rep.get("seed") in (None, seed))


def report_markdown(r: dict, images: list[str]) -> str:
    lines = [f"# {r['target']}: {r['description']}", ""]
    acc = r["accuracy_test"]
    lines += [f"- nodes: {r['nodes']:,}; test accuracy: "
              f"{'-' if acc is None else f'{100 * acc:.2f}%'}; netlist {r['netlist_hash'][:16]}",
              f"- {r['lut_unit']}s: **{r['luts']:,}**"
              + (f" of {r['capacity_luts']:,}" if r["capacity_luts"] else "")
              + f", flip-flops {r['ffs']:,}, carries {r['carries']:,}, block RAMs {r['brams']}",
              ]
    if r["fmax_mhz"]:
        lines += [f"- Fmax **{r['fmax_mhz']:.1f} MHz** (nextpnr, target {r['target_mhz']:g} MHz); "
                  f"latency {r['latency_cycles']} cycles = {r['latency_ns']:.1f} ns; "
                  f"{r['throughput_inferences_per_s'] / 1e6:.1f} M inferences/s"]
    else:
        lines += [f"- latency {r['latency_cycles']} cycles; no place and route for this target"]
    e = r["energy_pj_per_inference"]
    if e["total"] is not None:
        lines += [f"- energy per inference (**estimate**, {e['uncertainty']}): "
                  f"{e['total']:.1f} pJ = dynamic {e['dynamic']:.1f} + clock {e['clock']:.1f} + "
                  f"static {e['static']:.1f} at {e['frequency_mhz']:.1f} MHz"]
    else:
        lines += [f"- energy: {e['method']}"]
    lines += ["", "| stage | LUTs | FFs | carries | other |", "|---|---:|---:|---:|---:|"]
    for name, s in r["cells_by_stage"].items():
        lines.append(f"| {name} | {s['luts']:,} | {s['ffs']:,} | {s['carries']:,} | "
                     f"{s['other'] + s['brams']:,} |")
    lines += ["", f"Counting: {r['stage_counting']}.", ""]
    if r["utilisation"]:
        lines += ["| resource | used | available |", "|---|---:|---:|"]
        for k, v in r["utilisation"].items():
            if v["used"]:
                lines.append(f"| {k} | {v['used']:,} | {v['available']:,} |")
        lines.append("")
    if e["total"] is not None:
        lines += [f"Energy method: {e['method']}.", "", f"Source: {e['source']}.", ""]
    lines += [f"![{name}]({name})" for name in images]
    return "\n".join(lines) + "\n"
