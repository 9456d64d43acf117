"""``lutmesh report``: synthesis, place and route and an energy estimate per target."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import ConfigError

__all__ = ["add_report_arguments", "run_report", "load_activity", "measure_activity"]


def add_report_arguments(p: argparse.ArgumentParser) -> None:
    from .targets import TARGETS

    from ..hdl.cli import add_emit_options

    p.add_argument("model", type=Path, help="netlist file (.npz)")
    p.add_argument("--rtl", type=Path,
                   help="directory written by `lutmesh emit` to measure (default: emit into "
                        "OUT/rtl with the options below, as `lutmesh emit` would)")
    p.add_argument("--target", default="ice40-up5k",
                   help=f"one of {', '.join(TARGETS)}, a comma-separated list, or 'all'")
    p.add_argument("--out", type=Path, default=Path("build/report"),
                   help="output directory (one subdirectory per target)")
    p.add_argument("--freq", type=float, help="clock target for place and route, MHz "
                   "(default 100 for iCE40, 200 for ECP5)")
    p.add_argument("--activity", type=Path,
                   help="activity.json of a `lutmesh verify` run of this model (default: "
                        "recorded now, on the model's test split)")
    p.add_argument("--seed", type=int, default=1, help="nextpnr placement seed (the one whose "
                   "Fmax and routing are reported)")
    p.add_argument("--seeds", type=int, default=1,
                   help="place and route with this many seeds (SEED, SEED+1, ...), one after "
                        "the other, and report min/median/max Fmax (default 1)")
    p.add_argument("--placement", default="free",
                   help="'free' (nextpnr places every cell) or 'grid' (each mesh node's "
                        "register pinned where its grid puts it; iCE40 only)")
    add_emit_options(p.add_argument_group("design options (without --rtl; as for `lutmesh emit`)"))


def parse_targets(text: str):
    from .targets import TARGETS, get_target

    names = list(TARGETS) if text == "all" else [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise ConfigError("--target: no target given")
    return [get_target(n) for n in names]


def check_placement_options(args: argparse.Namespace, targets) -> None:
    """``--seeds`` and ``--placement`` checked before any tool runs."""
    from .placement import DIES, PLACEMENTS

    if not 1 <= args.seeds <= 50:
        raise ConfigError(f"--seeds {args.seeds}: expected 1..50")
    if args.seed < 0:
        raise ConfigError(f"--seed {args.seed}: expected a non-negative integer")
    if args.placement not in PLACEMENTS:
        raise ConfigError(f"--placement {args.placement}: expected one of "
                          f"{', '.join(PLACEMENTS)}")
    if args.placement == "grid":
        bad = [t.name for t in targets if t.pnr_tool and t.name not in DIES]
        if bad:
            raise ConfigError(f"--placement grid: not available for {', '.join(bad)} "
                              f"(only for {', '.join(DIES)})")


def load_activity(path: Path, net) -> dict:
    try:
        act = json.loads(Path(path).read_text())
        act["stages"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"--activity {path}: not an activity.json ({exc})") from None
    if act.get("netlist_hash") not in (None, net.content_hash()):
        raise ConfigError(f"--activity {path}: recorded for netlist "
                          f"{str(act['netlist_hash'])[:16]}, not this model")
    return act


def measure_activity(net, rtl_dir: Path, out_dir: Path, log=print) -> dict:
    """A full-rate run of the RTL in ``rtl_dir`` with SAIF, on the model's test split."""
    from ..samples import verification_samples
    from ..sim.scoreboard import Scenario
    from ..sim.verify import verify

    X, source = verification_samples(net, None, None, 0)
    log(f"  recording switching activity on {source}")
    result = verify(net, X, out_dir, rtl_dir=rtl_dir, scenarios=(Scenario("full_rate"),),
                    log=lambda *_: None)
    if not result["passed"]:
        raise ConfigError(f"the RTL does not match the model (see {out_dir / 'verify.json'})")
    return json.loads((out_dir / "activity.json").read_text())


def run_report(args: argparse.Namespace) -> int:
    from ..netlist import Netlist
    from .report import make_report

    targets = parse_targets(args.target)
    if args.freq is not None and not 1 <= args.freq <= 1000:
        raise ConfigError(f"--freq {args.freq}: expected 1..1000 MHz")
    check_placement_options(args, targets)
    net = Netlist.load(args.model)
    rtl = args.rtl
    if rtl is None:
        from ..hdl.cli import emit_options
        from ..hdl.emit import emit_verilog

        rtl = args.out / "rtl"
        emit_verilog(net, rtl, emit_options(args, net))
        print(f"emitted Verilog to {rtl}")
    activity = load_activity(args.activity, net) if args.activity else None
    if activity is None and any(t.pnr_tool for t in targets):
        activity = measure_activity(net, rtl, args.out / "activity")
    for target in targets:
        print(f"report {target.name}")
        r = make_report(net, rtl, target, args.out / target.name, freq_mhz=args.freq,
                        activity=activity, seed=args.seed, seeds=args.seeds,
                        placement=args.placement)
        print_summary(r, args.out / target.name)
    return 0


def print_summary(r: dict, out_dir: Path) -> None:
    cap = f" / {r['capacity_luts']:,}" if r["capacity_luts"] else ""
    line = (f"  {r['target']}: {r['luts']:,}{cap} {r['lut_unit']}s, {r['ffs']:,} FFs, "
            f"{r['carries']:,} carries")
    if r["fmax_mhz"]:
        line += (f"; Fmax {r['fmax_mhz']:.1f} MHz, latency {r['latency_cycles']} cycles "
                 f"({r['latency_ns']:.0f} ns)")
        if len(r.get("fmax_mhz_seeds") or []) > 1:
            o = r["fmax_mhz_over_seeds"]
            line += (f"; over {len(r['fmax_mhz_seeds'])} seeds min {o['min']:.1f} / median "
                     f"{o['median']:.1f} / max {o['max']:.1f} MHz")
    if r.get("routing"):
        line += f"; {r['routing']['wires_per_node_mean']} routed wires per node"
    e = r["energy_pj_per_inference"]
    if e["total"] is not None:
        line += f"; ~{e['total']:.0f} pJ/inference (estimate)"
    print(line)
    print(f"  wrote {out_dir / 'report.json'}, report.md and charts")
