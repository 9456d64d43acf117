"""``lutmesh verify``: the generated RTL on Verilator or Icarus against the golden model."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError

__all__ = ["add_verify_arguments", "run_verify", "print_table"]

EXIT_MISMATCH = 1


def add_verify_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", type=Path, help="netlist file (.npz)")
    p.add_argument("--rtl", type=Path,
                   help="directory written by `lutmesh emit` (default: emit into OUT/rtl)")
    p.add_argument("--samples", default="all",
                   help="number of test samples, or 'all' (default: all)")
    p.add_argument("--dataset",
                   help="dataset name or .csv/.npz file (default: the model's own dataset; "
                        "'random' for seeded random features)")
    p.add_argument("--data-dir", type=Path, help="directory of IDX files (mnist, fashion-mnist)")
    p.add_argument("--label-column", help="label column of a CSV file (default: label)")
    p.add_argument("--seed", type=int, default=0, help="seed of random gaps, stalls and data")
    p.add_argument("--simulator", default="verilator",
                   help="verilator (default, 2-state, compiled) or icarus (4-state: shows x; "
                        "needs `apt-get install iverilog`)")
    p.add_argument("--bulk-samples", type=int, default=0, metavar="N",
                   help="add N seeded random samples (every feature's full range) to the "
                        "full-rate scenario, checked in the compiled bulk harness (Verilator)")
    p.add_argument("--waves", action="store_true", help="also write OUT/waves.vcd")
    p.add_argument("--no-activity", action="store_true",
                   help="skip the switching-activity (SAIF) run")
    p.add_argument("--out", type=Path, default=Path("build/verify"), help="output directory")


def _sample_count(text: str) -> int | None:
    if text == "all":
        return None
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise ConfigError(f"--samples {text!r}: expected a positive integer or 'all'")
    return n


def run_verify(args: argparse.Namespace) -> int:
    from ..netlist import Netlist
    from ..samples import verification_samples
    from .verify import verify

    from .verilator import SIMULATORS

    count = _sample_count(args.samples)
    if args.simulator not in SIMULATORS:
        raise ConfigError(f"--simulator {args.simulator!r}: expected one of "
                          f"{', '.join(SIMULATORS)}")
    if args.bulk_samples < 0:
        raise ConfigError(f"--bulk-samples {args.bulk_samples}: expected 0 or more")
    if args.bulk_samples and args.simulator != "verilator":
        raise ConfigError("--bulk-samples needs --simulator verilator (the bulk harness is "
                          "Verilator C++)")
    net = Netlist.load(args.model)
    X, source = verification_samples(net, args.dataset, count, args.seed,
                                     data_dir=args.data_dir, label_column=args.label_column)
    print(f"verifying {args.model} on {source}")
    result = verify(net, X, args.out, rtl_dir=args.rtl, seed=args.seed, waves=args.waves,
                    activity=not args.no_activity, simulator=args.simulator,
                    bulk_samples=args.bulk_samples)
    print_table(result)
    if result["passed"]:
        return 0
    first = result["first_mismatch"]
    if first:
        print(f"first mismatch: sample {first['sample']} (scenario output at cycle "
              f"{first['output_cycle']}): expected class {first['expected']}, "
              f"got {first['got']}; quantised inputs {first['quantized']}")
    for c in result["scenarios"]:
        for problem in c["problems"]:
            print(f"FAIL {c['scenario']}: {problem}")
    return EXIT_MISMATCH


def print_table(result: dict) -> None:
    head = (f"{'scenario':<17}{'accepted':>9}{'checked':>8}{'mismatch':>9}{'lost':>6}"
            f"{'dup':>5}{'latency':>9}{'thruput':>9}{'samples/s':>11}  path    result")
    print(head)
    for c in result["scenarios"]:
        lat = ("-" if c["latency_min"] is None else
               f"{c['latency_min']}" if c["latency_min"] == c["latency_max"] else
               f"{c['latency_min']}-{c['latency_max']}")
        thr = "-" if c["throughput_per_cycle"] is None else f"{c['throughput_per_cycle']:.3f}"
        sps = "-" if c["samples_per_second"] is None else f"{c['samples_per_second']:,}"
        print(f"{c['scenario']:<17}{c['accepted']:>9}{c['checked']:>8}{c['mismatches']:>9}"
              f"{c['lost']:>6}{c['duplicated']:>5}{lat:>9}{thr:>9}{sps:>11}  "
              f"{c.get('path', 'cocotb'):<8}{'pass' if c['passed'] else 'FAIL'}")
    verdict = "PASS" if result["passed"] else "FAIL"
    print(f"{verdict}: {result['samples']} samples, {result['mismatches']} mismatches, "
          f"{result['lost']} lost, {result['duplicated']} duplicated; latency "
          f"{result['measured_latency_cycles']} cycles (manifest {result['latency_cycles']}), "
          f"{result['throughput_per_cycle']} samples/cycle at full rate")
    build = ("none" if result["build_cached"] is None else "cached" if result["build_cached"]
             else f"{result['build_seconds']} s")
    print(f"{result['simulator'].capitalize()} {result['simulator_version']} (build {build}), "
          f"{result['simulated_cycles']:,} cycles simulated at "
          f"{result['simulated_cycles_per_second']:,} cycles/s; wrote {result['files']['verify']}")
