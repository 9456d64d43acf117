"""Exported-netlist test accuracy per dataset and configuration, with sizes and times.

    python benchmarks/train_quality.py [--datasets digits,mnist1d,fashion-mnist] [--seeds 0,1,2]

Prints dataset x config x test accuracy x nodes x LUT inputs x train seconds, and
compares local (radius 2) with global wiring at the same node count. Fashion-MNIST
runs only when its IDX files are present. Slow: a benchmark, not a test.
"""

import argparse
import statistics

from common import available_datasets
from lutmesh.train import TrainConfig, fit

CONFIGS = {
    "digits": {"default (K=4)": {}, "K=6 8x8x4,4x4x30": dict(lut_inputs=6, layers="8x8x4,4x4x30"),
               "global (K=4)": dict(radius=None)},
    "mnist1d": {"K=6 1x40x32,1x20x32,1x10x200 shift 4": dict(
                    layers="1x40x32,1x20x32,1x10x200", lut_inputs=6, radius=3,
                    thermometer_bits=8, augment_shift=4, epochs=50, patience=12),
                "global": dict(layers="1x40x32,1x20x32,1x10x200", lut_inputs=6, radius=None,
                               thermometer_bits=8, augment_shift=4, epochs=50, patience=12)},
    "fashion-mnist": {"28x28x2,14x14x8,7x7x60": dict(layers="28x28x2,14x14x8,7x7x60",
                                                     thermometer_bits=3, epochs=10,
                                                     batch_size=256)},
}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--datasets", default="digits,mnist1d,fashion-mnist")
    ap.add_argument("--seeds", default="0")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"{'dataset':<14} {'config':<26} {'test acc':>14} {'nodes':>7} {'LUT inputs':>11} "
          f"{'train s':>8}", flush=True)
    for name, data in available_datasets(args.datasets):
        for label, options in CONFIGS.get(name, {"default": {}}).items():
            runs = [fit(data, TrainConfig(progress=False, seed=s, **options)) for s in seeds]
            accs = [r.metrics["accuracy"]["test"] * 100 for r in runs]
            spread = f"±{statistics.stdev(accs):.2f}" if len(accs) > 1 else ""
            r = runs[0].metrics
            print(f"{name:<14} {label:<26} {statistics.mean(accs):>8.2f}%{spread:>5} "
                  f"{r['nodes']:>7} {r['lut_inputs_after_pruning']:>11} "
                  f"{statistics.mean(x.metrics['train_seconds'] for x in runs):>8.1f}",
                  flush=True)


if __name__ == "__main__":
    main()
