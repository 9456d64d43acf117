"""``lutmesh flow``: train → emit → verify → report, reusing what has not changed.

Each stage writes into ``--out`` and records what it was made from; a re-run
skips a stage whose inputs are unchanged. Each stage owns that check (its
``is_current``): training compares the dataset and the full config with
``model.metrics.json``; emit the netlist hash, options and tool versions with the
manifest; verify and report the Verilog's sha256 with the manifest's. Before the
summary the flow checks that verify and every report saw the same Verilog. The run
ends with a one-screen summary, also written to ``OUT/summary.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from .errors import ConfigError, ToolError
from .files import atomic_write_text

__all__ = ["add_flow_arguments", "run_flow", "flow_args", "plan_flow", "run_stages", "UNTIL"]


def add_flow_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="digits",
                   help="dataset name or .csv/.npz file (default: digits)")
    p.add_argument("--data-dir", type=Path, help="directory of IDX files (mnist, fashion-mnist)")
    p.add_argument("--config", type=Path, help="TOML file of training options")
    p.add_argument("--preset", default="default",
                   help="named training settings under --config (as lutmesh train --preset: "
                        "default or explainable)")
    p.add_argument("--seed", type=int, help="training seed (default 0)")
    p.add_argument("--out", type=Path, default=Path("build"), help="output directory")
    p.add_argument("--target", default="ice40-up5k",
                   help="report target(s): name, comma-separated list or 'all'")
    p.add_argument("--freq", type=float, help="clock target for place and route, MHz")
    p.add_argument("--force", action="store_true", help="re-run every stage")


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


def _train_stage(args, config, out: Path, stages: _Stages, on_epoch=None):
    from .datasets import load_dataset
    from .netlist import Netlist
    from .train.artifacts import is_current, metrics_path, save_trained
    from .train.trainer import fit

    model = out / "model.npz"
    t0 = stages.start("train", f"dataset {args.dataset}, layers {config.layers}, "
                               f"K={config.lut_inputs}")
    reuse = not args.force and is_current(model, args.dataset, config)
    if reuse:
        net, metrics = Netlist.load(model), json.loads(metrics_path(model).read_text())
    else:
        result = fit(load_dataset(args.dataset, data_dir=args.data_dir), config, on_epoch=on_epoch)
        save_trained(result, model, args.dataset)
        net, metrics = result.netlist, result.metrics
    acc = metrics["accuracy"]
    stages.done("train", t0, reuse, f"{net.n_nodes:,} nodes, test accuracy "
                                    f"{100 * acc['test']:.2f}%")
    return net, metrics


def _emit_stage(args, net, rtl: Path, stages: _Stages) -> dict:
    from .hdl.emit import emit_verilog, is_current, load_rtl

    t0 = stages.start("emit", "Amaranth → Verilog")
    reuse = not args.force and is_current(rtl, net)
    manifest = load_rtl(rtl)[1] if reuse else emit_verilog(net, rtl)[1]
    stages.done("emit", t0, reuse, f"latency {manifest['latency_cycles']} cycles")
    return manifest


def _verify_stage(args, net, rtl: Path, manifest: dict, vdir: Path, stages: _Stages) -> dict:
    from .samples import verification_samples
    from .sim.cli import print_table
    from .sim.verify import is_current, verify

    t0 = stages.start("verify", "cocotb + Verilator against the golden model")
    reuse = not args.force and is_current(vdir, net, manifest)
    if reuse:
        ver = json.loads((vdir / "verify.json").read_text())
    else:
        X, source = verification_samples(net, args.dataset, None, 0, data_dir=args.data_dir)
        print(f"      on {source}")
        ver = verify(net, X, vdir, rtl_dir=rtl, log=lambda m: print(f"      {m}", flush=True))
        print_table(ver)
    stages.done("verify", t0, reuse, f"{ver['samples']} samples, {ver['mismatches']} mismatches")
    return ver


def _report_stage(args, net, rtl: Path, manifest: dict, activity: dict, target, rdir: Path,
                  stages: _Stages) -> dict:
    from .report.cli import print_summary
    from .report.report import is_current, make_report

    name = f"report {target.name}"
    t0 = stages.start(name, "Yosys" + (" + nextpnr" if target.pnr_tool else ""))
    reuse = not args.force and is_current(rdir, manifest, freq_mhz=args.freq)
    if reuse:
        rep = json.loads((rdir / "report.json").read_text())
    else:
        rep = make_report(net, rtl, target, rdir, freq_mhz=args.freq, activity=activity,
                          log=lambda m: print(f"    {m}", flush=True))
    stages.done(name, t0, reuse)
    print_summary(rep, rdir)
    return rep


def check_same_design(manifest: dict, ver: dict, reports: list[dict]) -> None:
    """What was verified is what was measured: one Verilog sha256 throughout."""
    want = manifest.get("verilog_sha256")
    seen = {"verify": ver.get("verilog_sha256")}
    seen.update({f"report {r['target']}": r.get("verilog_sha256") for r in reports})
    wrong = {k: v for k, v in seen.items() if v != want}
    if wrong:
        raise ToolError(f"the emitted Verilog (sha256 {str(want)[:12]}) is not what "
                        + ", ".join(f"{k} saw ({str(v)[:12]})" for k, v in wrong.items())
                        + ": re-run with --force")


UNTIL = ("train", "emit", "verify", "report")


def flow_args(**values) -> argparse.Namespace:
    """``lutmesh flow``'s options with its own defaults, some replaced.

    A sweep runs each trial as this command would, so a trial and a ``lutmesh
    flow`` with the same options reuse each other's stages.
    """
    parser = argparse.ArgumentParser(add_help=False)
    add_flow_arguments(parser)
    args = parser.parse_args([])
    for name, value in values.items():
        if not hasattr(args, name):
            raise ConfigError(f"unknown flow option '{name}'")
        setattr(args, name, value)
    return args


def plan_flow(args: argparse.Namespace, options: dict | None = None):
    """The training config and report targets a run would use, or a ConfigError.

    ``options`` are training options applied over ``--config`` (a sweep's trial
    values); checking them here lets a sweep reject a bad space before it starts.
    """
    from .datasets import load_dataset
    from .report.cli import parse_targets
    from .train.config import load_config

    targets = parse_targets(args.target) if args.target else []
    data = load_dataset(args.dataset, data_dir=args.data_dir)  # its shape picks defaults
    return (load_config(args.config, preset=args.preset, data=data,
                        **{"seed": args.seed, **(options or {})}), targets)


def run_stages(args: argparse.Namespace, options: dict | None = None, *,
               until: str = "report", on_epoch=None) -> dict:
    """Train → emit → verify → report into ``args.out``, reusing current stages.

    Stops after ``until``, or after verify when the RTL does not match. Returns
    what each stage produced (``netlist``, ``metrics``, ``manifest``, ``verify``,
    ``reports``) and ``times``; ``on_epoch`` goes to the trainer.
    """
    if until not in UNTIL:
        raise ConfigError(f"until = {until!r}: expected one of {', '.join(UNTIL)}")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    config, targets = plan_flow(args, options)
    steps = UNTIL.index(until) + 1
    stages = _Stages(min(steps, 3) + (len(targets) if until == "report" else 0))
    done = {"times": stages.times, "manifest": None, "verify": None, "reports": []}
    done["netlist"], done["metrics"] = _train_stage(args, config, out, stages, on_epoch)
    if steps > 1:
        done["manifest"] = _emit_stage(args, done["netlist"], out / "rtl", stages)
    if steps > 2:
        done["verify"] = _verify_stage(args, done["netlist"], out / "rtl", done["manifest"],
                                       out / "verify", stages)
    if steps > 3 and done["verify"]["passed"]:
        activity = json.loads((out / "verify" / "activity.json").read_text())
        done["reports"] = [_report_stage(args, done["netlist"], out / "rtl", done["manifest"],
                                         activity, target, out / "report" / target.name, stages)
                           for target in targets]
        check_same_design(done["manifest"], done["verify"], done["reports"])
    return done


def run_flow(args: argparse.Namespace) -> int:
    out: Path = args.out
    done = run_stages(args)
    net, metrics, ver, reports = (done["netlist"], done["metrics"], done["verify"],
                                  done["reports"])
    if not ver["passed"]:
        print("flow stopped: the RTL does not match the golden model (see "
              f"{out / 'verify' / 'verify.json'})")
        return 1
    atomic_write_text(out / "summary.md",
                      summary_markdown(net, metrics, ver, reports, done["times"]))
    print()
    print(summary_screen(net, metrics, ver, reports))
    print(f"wrote {out / 'summary.md'}")
    return 0


def _energy(rep: dict) -> str:
    e = rep["energy_pj_per_inference"]
    return "-" if e["total"] is None else f"~{e['total']:.0f} pJ (estimate, {e['uncertainty']})"


def _accuracy_parts(acc: dict) -> list[str]:
    """``test``, ``validation`` (a model trained on all its data has none), ``train``."""
    return [f"{k} {100 * acc[k]:.2f}%" for k in ("test", "validation", "train") if k in acc]


def summary_screen(net, metrics, ver, reports) -> str:
    acc = metrics["accuracy"]
    lines = [
        "=" * 72,
        f"lutmesh flow: {metrics.get('dataset', '?')}, {net.n_nodes:,} LUT nodes in "
        f"{len(net.layers)} layers, netlist {net.content_hash()[:16]}",
        "accuracy (exported netlist)  " + "  ".join(_accuracy_parts(acc)),
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
             "- accuracy of the exported netlist: " + ", ".join(_accuracy_parts(acc)),
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
