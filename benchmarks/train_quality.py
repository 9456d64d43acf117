"""Exported-netlist test accuracy per dataset and configuration, with sizes and times.

    python benchmarks/train_quality.py [--datasets digits,mnist1d,fashion-mnist] [--seeds 0,1,2]

Prints dataset x config x test accuracy x nodes x LUT inputs x counted iCE40 LUT4s x
train seconds, and compares local (radius 2) with global wiring at the same node count.
The LUT4 count is the one ``report.json`` gives as ``luts``: Yosys ``synth_ice40`` of the
emitted core (encoder, nodes, readout, output buffer; the few-pin harness not counted),
for the first seed's netlist; ``--no-luts`` skips synthesis (minutes for the larger
models). Fashion-MNIST runs only when its IDX files are present. Slow: a benchmark, not
a test.
"""

import argparse
import statistics
import tempfile
from pathlib import Path

from common import available_datasets
from lutmesh.train import fit
from lutmesh.train.config import MEASURED_TRAINER, load_config

# options on top of what `lutmesh train` chooses for the data's shape (train/defaults.py)
CONFIGS = {
    "digits": {"default (K=4)": {}, "K=6 8x8x4,4x4x30": dict(lut_inputs=6, layers="8x8x4,4x4x30"),
               "global (K=4)": dict(radius="global"),
               # the default until session 19: no quarter-pixel shifts, early stopping
               # on a validation split
               "before session 19": dict(augment_subpixel=0.0, validation_fraction=0.1),
               # the default until 2026-12-06, for the comparison in the README
               "earlier 8x8x8,4x4x35": dict(layers="8x8x8,4x4x35", **MEASURED_TRAINER)},
    "mnist1d": {"default (K=6, global)": {}, "radius 3": dict(radius=3)},
}


def counted_luts(net) -> int:
    """iCE40 LUT4s of the emitted core, as ``lutmesh report`` counts them (synthesis only)."""
    from lutmesh.hdl.emit import emit_verilog
    from lutmesh.report.synth import synthesize
    from lutmesh.report.targets import get_target

    with tempfile.TemporaryDirectory() as work:
        core, manifest = emit_verilog(net, Path(work) / "rtl")
        synth = synthesize(core, manifest, get_target("ice40-up5k"), Path(work) / "synth",
                           log=lambda _: None)
    return synth.totals.get("luts", 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--datasets", default="digits,mnist1d,fashion-mnist")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--no-luts", dest="luts", action="store_false",
                    help="skip the Yosys synthesis that counts iCE40 LUT4s")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"{'dataset':<14} {'config':<26} {'test acc':>14} {'nodes':>7} {'LUT inputs':>11} "
          f"{'iCE40 LUT4':>10} {'train s':>8}", flush=True)
    for name, data in available_datasets(args.datasets):
        for label, options in CONFIGS.get(name, {"default": {}}).items():
            runs = [fit(data, load_config(data=data, progress=False, seed=s, **options))
                    for s in seeds]
            accs = [r.metrics["accuracy"]["test"] * 100 for r in runs]
            spread = f"±{statistics.stdev(accs):.2f}" if len(accs) > 1 else ""
            r = runs[0].metrics
            luts = counted_luts(runs[0].netlist) if args.luts else "-"
            print(f"{name:<14} {label:<26} {statistics.mean(accs):>8.2f}%{spread:>5} "
                  f"{r['nodes']:>7} {r['lut_inputs_after_pruning']:>11} {luts:>10} "
                  f"{statistics.mean(x.metrics['train_seconds'] for x in runs):>8.1f}",
                  flush=True)


if __name__ == "__main__":
    main()
