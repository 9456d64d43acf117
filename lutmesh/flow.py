"""``lutmesh flow``: train → emit → verify → report, reusing what has not changed.

Each stage writes into ``--out`` and records what it was made from; a re-run
skips a stage whose inputs are unchanged: training when the dataset and the full
config match ``model.metrics.json``, the rest when the netlist hash matches the
one recorded in the stage's own JSON. The run ends with a one-screen summary,
also written to ``OUT/summary.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from .files import atomic_write_text

__all__ = ["add_flow_arguments", "run_flow"]


def add_flow_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="digits",
                   help="dataset name or .csv/.npz file (default: digits)")
    p.add_argument("--data-dir", type=Path, help="directory of IDX files (mnist, fashion-mnist)")
    p.add_argument("--config", type=Path, help="TOML file of training options")
    p.add_argument("--seed", type=int, help="training seed (default 0)")
    p.add_argument("--out", type=Path, default=Path("build"), help="output directory")
    p.add_argument("--target", default="ice40-up5k",
                   help="report target(s): name, comma-separated list or 'all'")
    p.add_argument("--freq", type=float, help="clock target for place and route, MHz")
    p.add_argument("--force", action="store_true", help="re-run every stage")


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


class _Stages:
    """Numbered progress lines, one per stage, with its time and whether it was reused."""

    def __init__(self, total: int):
        self.total, self.n, self.times = total, 0, {}

    def start(self, name: str, what: str) -> float:
        self.n += 1
        print(f"[{self.n}/{self.total}] {name}: {what}", flush=True)
        return time.perf_counter()

    def done(self, name: str, t0: float, reused: bool, detail: str = "") -> None:
        dt = time.perf_counter() - t0
        self.times[name] = (round(dt, 1), reused)
        state = "reused (inputs unchanged)" if reused else f"done in {dt:.1f} s"
        print(f"      {name} {state}{'; ' + detail if detail else ''}", flush=True)


def run_flow(args: argparse.Namespace) -> int:
    from .hdl.emit import emit_verilog, tool_versions
    from .netlist import Netlist
    from .report.cli import parse_targets, print_summary
    from .report.report import make_report
    from .samples import verification_samples
    from .sim.cli import print_table
    from .sim.verify import verify
    from .train.config import load_config
    from .datasets import load_dataset
    from .train.trainer import fit

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    targets = parse_targets(args.target)
    config = load_config(args.config, seed=args.seed)
    stages = _Stages(3 + len(targets))

    # 1. train ------------------------------------------------------------------
    model = out / "model.npz"
    metrics_path = out / "model.metrics.json"
    t0 = stages.start("train", f"dataset {args.dataset}, layers {config.layers}, "
                               f"K={config.lut_inputs}")
    old = _read_json(metrics_path)
    reuse = (not args.force and model.exists() and old is not None
             and old.get("dataset_source") == args.dataset
             and old.get("config") == config.to_dict())
    if reuse:
        net = Netlist.load(model)
        metrics = old
    else:
        dataset = load_dataset(args.dataset, data_dir=args.data_dir)
        result = fit(dataset, config)
        net, metrics = result.netlist, result.metrics
        metrics["dataset_source"] = args.dataset
        net.save(model)
        atomic_write_text(metrics_path, json.dumps(metrics, indent=2) + "\n")
    acc = metrics["accuracy"]
    stages.done("train", t0, reuse, f"{net.n_nodes:,} nodes, test accuracy "
                                    f"{100 * acc['test']:.2f}%")
    h = net.content_hash()

    # 2. emit -------------------------------------------------------------------
    rtl = out / "rtl"
    t0 = stages.start("emit", "Amaranth → Verilog")
    manifest = _read_json(rtl / "manifest.json")
    reuse = (not args.force and manifest is not None and manifest.get("netlist_hash") == h
             and manifest.get("tool_versions") == tool_versions()
             and (rtl / manifest.get("file", "-")).exists())
    if not reuse:
        _, manifest = emit_verilog(net, rtl)
    stages.done("emit", t0, reuse, f"latency {manifest['latency_cycles']} cycles")

    # 3. verify -----------------------------------------------------------------
    vdir = out / "verify"
    t0 = stages.start("verify", "cocotb + Verilator against the golden model")
    ver = _read_json(vdir / "verify.json")
    reuse = (not args.force and ver is not None and ver.get("netlist_hash") == h
             and ver.get("rtl_netlist_hash") == h and ver.get("passed")
             and (vdir / "activity.json").exists())
    if not reuse:
        X, source = verification_samples(net, args.dataset, None, 0, data_dir=args.data_dir)
        print(f"      on {source}")
        ver = verify(net, X, vdir, rtl_dir=rtl, log=lambda m: print(f"      {m}", flush=True))
        print_table(ver)
    stages.done("verify", t0, reuse, f"{ver['samples']} samples, {ver['mismatches']} mismatches")
    if not ver["passed"]:
        print("flow stopped: the RTL does not match the golden model (see "
              f"{vdir / 'verify.json'})")
        return 1
    activity = json.loads((vdir / "activity.json").read_text())

    # 4. report -----------------------------------------------------------------
    reports = []
    for target in targets:
        rdir = out / "report" / target.name
        t0 = stages.start(f"report {target.name}", "Yosys" + (" + nextpnr" if target.pnr_tool
                                                              else ""))
        rep = _read_json(rdir / "report.json")
        reuse = (not args.force and rep is not None and rep.get("netlist_hash") == h
                 and (args.freq is None or rep.get("target_mhz") == args.freq))
        if not reuse:
            rep = make_report(net, target, rdir, freq_mhz=args.freq, activity=activity,
                              latency_cycles=manifest["latency_cycles"],
                              log=lambda m: print(f"    {m}", flush=True))
        stages.done(f"report {target.name}", t0, reuse)
        print_summary(rep, rdir)
        reports.append(rep)

    text = summary_markdown(net, metrics, ver, reports, stages.times)
    atomic_write_text(out / "summary.md", text)
    print()
    print(summary_screen(net, metrics, ver, reports))
    print(f"wrote {out / 'summary.md'}")
    return 0


def _energy(rep: dict) -> str:
    e = rep["energy_pj_per_inference"]
    return "-" if e["total"] is None else f"~{e['total']:.0f} pJ (estimate, {e['uncertainty']})"


def summary_screen(net, metrics, ver, reports) -> str:
    acc = metrics["accuracy"]
    lines = [
        "=" * 72,
        f"lutmesh flow: {metrics.get('dataset', '?')}, {net.n_nodes:,} LUT nodes in "
        f"{len(net.layers)} layers, netlist {net.content_hash()[:16]}",
        f"accuracy (exported netlist)  test {100 * acc['test']:.2f}%  validation "
        f"{100 * acc['validation']:.2f}%  train {100 * acc['train']:.2f}%",
        f"verify                       {'PASS' if ver['passed'] else 'FAIL'}: "
        f"{ver['samples']} samples x {len(ver['scenarios'])} scenarios, "
        f"{ver['mismatches']} mismatches, latency {ver['measured_latency_cycles']} cycles, "
        f"{ver['throughput_per_cycle']} sample/cycle",
    ]
    for r in reports:
        cap = f" / {r['capacity_luts']:,}" if r["capacity_luts"] else ""
        lines.append(f"{r['target']:<29}{r['luts']:,}{cap} {r['lut_unit']}s, {r['ffs']:,} FFs")
        if r["fmax_mhz"]:
            lines.append(f"{'':<29}Fmax {r['fmax_mhz']:.1f} MHz, latency {r['latency_ns']:.0f} ns, "
                         f"{r['throughput_inferences_per_s'] / 1e6:.0f} M inferences/s")
            lines.append(f"{'':<29}energy {_energy(r)}")
    lines.append("=" * 72)
    return "\n".join(lines)


def summary_markdown(net, metrics, ver, reports, times) -> str:
    acc = metrics["accuracy"]
    lines = ["# lutmesh flow summary", "",
             f"- dataset: {metrics.get('dataset')}; nodes: {net.n_nodes:,}; netlist "
             f"`{net.content_hash()[:16]}`",
             f"- accuracy of the exported netlist: test {100 * acc['test']:.2f}%, validation "
             f"{100 * acc['validation']:.2f}%, train {100 * acc['train']:.2f}%",
             f"- verify: {'PASS' if ver['passed'] else 'FAIL'} on {ver['samples']} samples x "
             f"{len(ver['scenarios'])} scenarios, {ver['mismatches']} mismatches, latency "
             f"{ver['measured_latency_cycles']} cycles (manifest {ver['latency_cycles']}), "
             f"{ver['throughput_per_cycle']} sample/cycle at full rate", "",
             "| target | LUTs | FFs | carries | Fmax MHz | latency ns | energy pJ/inf. (estimate) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in reports:
        e = r["energy_pj_per_inference"]["total"]
        lines.append(f"| {r['target']} | {r['luts']:,} ({r['lut_unit']}) | {r['ffs']:,} | "
                     f"{r['carries']:,} | {r['fmax_mhz'] or '-'} | {r['latency_ns'] or '-'} | "
                     f"{'-' if e is None else f'{e:.0f}'} |")
    lines += ["", "| stage | seconds | reused |", "|---|---:|---|"]
    for name, (sec, reused) in times.items():
        lines.append(f"| {name} | {sec} | {'yes' if reused else 'no'} |")
    lines += ["", "Per-target details: `report/<target>/report.md`."]
    return "\n".join(lines) + "\n"
