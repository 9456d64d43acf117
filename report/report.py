"""``report``: resources, timing and energy of one model on one target.

Writes ``report.json`` (the contract the flow and people read), ``report.md`` (a
table) and PNG charts next to them.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from ..files import atomic_write_json, atomic_write_text, sha256_of
from ..netlist import Netlist
from ..stages import stage_sort_key
from ..tools import package_version
from .energy import estimate_energy
from .routing import routing_summary
from .synth import place_and_route, synthesize
from .targets import Target

__all__ = ["make_report", "is_current", "DEFAULT_FREQ_MHZ"]

DEFAULT_FREQ_MHZ = {"ice40": 100.0, "ecp5": 200.0}


def make_report(net: Netlist, rtl_dir: str | Path, target: Target, out_dir: str | Path, *,
                freq_mhz: float | None = None, activity: dict | None = None, seed: int = 1,
                seeds: int = 1, placement: str = "free", log=print) -> dict:
    """Synthesise (and place and route) the Verilog emitted into ``rtl_dir``; write the report.

    ``rtl_dir`` holds ``lutmesh emit``'s Verilog and manifest: the report measures that
    file (its sha256 is recorded), with the latency its manifest states. With ``seeds``
    > 1, nextpnr runs once per seed ``seed .. seed + seeds - 1``, one after the other;
    ``fmax_mhz`` and the routed wire are ``seed``'s, ``fmax_mhz_seeds`` lists them all.
    """
    from ..hdl.emit import load_rtl

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    verilog, manifest = load_rtl(rtl_dir)
    t0 = time.perf_counter()
    synth = synthesize(verilog, manifest, target, out_dir / "work", log=log)
    freq = freq_mhz or DEFAULT_FREQ_MHZ.get(target.family)
    pnr, runs = None, []
    if target.pnr_tool:
        runs = _place_and_route_seeds(net, target, synth, out_dir / "work", freq, seed, seeds,
                                      placement, log)
        pnr = runs[0]
    report = _report_dict(net, target, synth, pnr, activity, int(manifest["latency_cycles"]))
    report.update(
        verilog_sha256=sha256_of(verilog), emit_options=manifest.get("options"),
        target_mhz=freq if pnr else None, seed=seed if pnr else None,
        placement=placement if pnr else None, **_seed_fields(runs),
        seconds={"synthesis": round(synth.seconds, 1),
                 "place_and_route": round(sum(r.seconds for r in runs), 1) if pnr else None,
                 "total": round(time.perf_counter() - t0, 1)})
    atomic_write_json(out_dir / "report.json", report)
    from .charts import energy_chart, resources_chart

    files = [resources_chart(report, out_dir / "resources.png")]
    if report["energy_pj_per_inference"]["total"] is not None:
        files.append(energy_chart(report, out_dir / "energy.png"))
    if pnr and (out_dir / "work" / "routed.json").exists():
        files.append(_placement_picture(net, report, out_dir))
    atomic_write_text(out_dir / "report.md", report_markdown(report, [f.name for f in files]))
    return report


def _placement_picture(net: Netlist, report: dict, out_dir: Path) -> Path:
    from ..names import layer_names
    from .charts import placement_chart
    from .routing import node_sites

    sites = node_sites(out_dir / "work" / "routed.json", layer_names(net))
    return placement_chart(report, sites, [tuple(layer.grid[:2]) for layer in net.layers],
                           [layer.positions for layer in net.layers], out_dir / "placement.png")


def _place_and_route_seeds(net, target, synth, work: Path, freq: float, seed: int, seeds: int,
                           placement: str, log) -> list:
    """nextpnr once per seed, sequentially (the chosen seed first, with its routed design)."""
    netlist = None
    if placement == "grid":
        from .placement import grid_bels, node_flip_flops, write_constrained
        from .synth import TOP

        design = json.loads(synth.netlist_json.read_text())
        bels = grid_bels(net, node_flip_flops(design, net, TOP), target.name)
        netlist = write_constrained(synth.netlist_json, work / "netlist_grid.json", bels, TOP)
        log(f"  grid placement: {len(bels)} node registers pinned")
    return [place_and_route(target, synth, work, freq, seed=s, log=log, netlist=netlist,
                            routed=s == seed, tag="" if s == seed else f"_seed{s}")
            for s in range(seed, seed + seeds)]


def _seed_fields(runs: list) -> dict:
    if not runs:
        return {"fmax_mhz_seeds": None, "seeds": None, "fmax_mhz_over_seeds": None}
    values = [round(r.fmax_mhz, 2) for r in runs]
    return {"seeds": [r.seed for r in runs], "fmax_mhz_seeds": values,
            "fmax_mhz_over_seeds": {"min": min(values), "median": statistics.median(values),
                                    "max": max(values)}}


def _report_dict(net: Netlist, target: Target, synth, pnr, activity, latency: int) -> dict:
    """Resources per stage, timing and energy: the body of ``report.json``."""
    from ..hdl.emit import tool_versions

    stages = {k: synth.by_stage[k] for k in sorted(synth.by_stage, key=stage_sort_key)}
    fmax = pnr.fmax_mhz if pnr else None
    routing = routing_summary(pnr.wires, net.n_nodes) if pnr and pnr.wires is not None else None
    energy = estimate_energy(target.family, activity,
                             {k: v for k, v in stages.items() if k != "harness"},
                             synth.totals.get("ffs", 0), fmax,
                             {k: v["wires"] for k, v in routing["by_stage"].items()}
                             if routing else None)
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
        "routing": routing,
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
               seed: int = 1, seeds: int = 1, placement: str = "free") -> bool:
    """Whether ``out_dir/report.json`` measured this emitted Verilog at these settings."""
    try:
        rep = json.loads((Path(out_dir) / "report.json").read_text())
    except (OSError, ValueError):
        return False
    return (rep.get("verilog_sha256") == manifest.get("verilog_sha256") is not None
            and (freq_mhz is None or rep.get("target_mhz") in (None, freq_mhz))
            and rep.get("seed") in (None, seed)
            and len(rep.get("seeds") or [seed]) == seeds
            and rep.get("placement") in (None, placement))


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
                  f"{r['throughput_inferences_per_s'] / 1e6:.1f} M inferences/s; "
                  f"seed {r['seed']}, {r['placement']} placement"]
        if len(r["fmax_mhz_seeds"]) > 1:
            o = r["fmax_mhz_over_seeds"]
            lines += [f"- Fmax over seeds {r['seeds'][0]}..{r['seeds'][-1]}: min {o['min']:.1f}, "
                      f"median {o['median']:.1f}, max {o['max']:.1f} MHz"]
    else:
        lines += [f"- latency {r['latency_cycles']} cycles; no place and route for this target"]
    if r.get("routing"):
        g = r["routing"]
        lines += [f"- routed wire (PIPs): {g['wires_total']:,} on {g['nets']:,} nets, "
                  f"{g['wires_per_net_mean']} per net, **{g['wires_per_node_mean']} per mesh "
                  f"node**; longest net {g['longest_net_wires']}"]
    e = r["energy_pj_per_inference"]
    if e["total"] is not None:
        wire = f" + interconnect {e['interconnect']:.1f}" if e.get("interconnect") is not None \
            else ""
        lines += [f"- energy per inference (**estimate**, {e['uncertainty']}): "
                  f"{e['total']:.1f} pJ = dynamic {e['dynamic']:.1f}{wire} + clock "
                  f"{e['clock']:.1f} + static {e['static']:.1f} at {e['frequency_mhz']:.1f} MHz"]
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
