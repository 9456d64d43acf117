"""The shape-chosen defaults on tabular data against the best configuration found by hand.

    python benchmarks/tabular_defaults.py [--datasets wine,breast-cancer,tabular-20k]
                                         [--seeds N] [--out build/tabular-20k.csv]

``tabular-20k`` is a CSV this script writes first (scikit-learn ``make_classification``:
20,000 rows, 16 features of which 12 informative, 26 classes, ``class_sep`` 1.5,
seed 0; a random forest of 200 trees reaches 83.5% and a logistic regression 66.8% on
a 20% stratified test split). For each data set: the default ``lutmesh train`` (no
options: what :func:`lutmesh.train.defaults.shape_defaults` chooses), the previous
digits-shaped default, and the hand-tried configurations in ``HAND``; test accuracy
as the mean over seeds 0..N-1 (30 for wine and breast-cancer, whose test splits of 36
and 114 samples make one seed's figure move by 3 and 1 points; 3 for tabular-20k;
``--seeds`` sets N for all), nodes, train seconds; then the default's distance from
the best. Slow: a benchmark, not a test.
"""

import argparse
import csv
import statistics
from pathlib import Path

from lutmesh.datasets import load_dataset
from lutmesh.train import TrainConfig, fit
from lutmesh.train.config import DIGITS_TRAINER, MEASURED_TRAINER
from lutmesh.train.defaults import shape_defaults

SEEDS = {"wine": 30, "breast-cancer": 30, "tabular-20k": 3}
OLD_DEFAULT = {"layers": "8x8x8,4x4x40", "radius": 2, **MEASURED_TRAINER}
# DIGITS_TRAINER, the digits default's trainer before session 19, is tried on
# each table's default layers: does what helped digits help tables?

# configurations tried by hand (README: defaults from the data's shape)
HAND = {
    "wine": [{"layers": "1x64,1x60", "radius": None},
             {"layers": "1x128,1x120", "radius": None},
             {"layers": "1x64,1x60", "radius": None, "thermometer_bits": 8},
             {"layers": "1x256,1x192", "radius": None},
             {"layers": "1x512,1x640", "radius": None},
             {"layers": "1x1024,1x1280", "radius": None}],
    "breast-cancer": [{"layers": "1x64,1x40", "radius": None},
                      {"layers": "1x128,1x80", "radius": None},
                      {"layers": "1x256,1x160", "radius": None},
                      {"layers": "1x256,1x128", "radius": None},
                      {"layers": "1x512,1x640", "radius": None},
                      {"layers": "1x1024,1x1280", "radius": None}],
    "tabular-20k": [{"layers": "1x512,1x520", "radius": None},
                    {"layers": "1x1024,1x1040", "radius": None},
                    {"layers": "1x1024,1x512,1x1040", "radius": None},
                    {"layers": "1x2048,1x1040", "radius": None, "thermometer_bits": 8}],
}


def write_tabular_csv(path: Path, rows: int = 20_000, seed: int = 0) -> Path:
    """The generated tabular data set, as a CSV with a ``label`` column."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=rows, n_features=16, n_informative=12,
                               n_redundant=2, n_classes=26, n_clusters_per_class=1,
                               class_sep=1.5, flip_y=0.01, random_state=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([f"f{i}" for i in range(X.shape[1])] + ["label"])
        for features, label in zip(X, y):
            out.writerow([f"{v:.6g}" for v in features] + [int(label)])
    return path


def measure(data, options: dict, seeds: list[int]) -> tuple[float, int, float]:
    runs = [fit(data, TrainConfig(progress=False, seed=s, **options)).metrics for s in seeds]
    return (100 * statistics.mean(r["accuracy"]["test"] for r in runs), runs[0]["nodes"],
            statistics.mean(r["train_seconds"] for r in runs))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--datasets", default="wine,breast-cancer,tabular-20k")
    ap.add_argument("--seeds", type=int, default=None, help="seeds per data set")
    ap.add_argument("--out", type=Path, default=Path("build/tabular-20k.csv"))
    args = ap.parse_args()
    print(f"{'dataset':<14} {'configuration':<58} {'test':>7} {'nodes':>6} {'train s':>8}",
          flush=True)
    for name in args.datasets.split(","):
        source = str(write_tabular_csv(args.out)) if name == "tabular-20k" else name
        data = load_dataset(source)
        seeds = list(range(args.seeds or SEEDS.get(name, 3)))
        chosen, why = shape_defaults(data)
        rows = {f"default: {why}": chosen, "previous default (8x8x8,4x4x40, radius 2)":
                OLD_DEFAULT, "default layers, digits trainer (8 candidates, 120 epochs)":
                {**chosen, **DIGITS_TRAINER}, "default layers, 4 candidates, 40 epochs":
                {**chosen, **MEASURED_TRAINER}}
        # hand-tried rows with the trainer the defaults use (4 candidates, 40 epochs)
        rows.update({", ".join(f"{k}={v}" for k, v in o.items()): {**MEASURED_TRAINER, **o}
                     for o in HAND.get(name, [])})
        results = {}
        for label, options in rows.items():
            results[label] = measure(data, options, seeds)
            acc, nodes, secs = results[label]
            print(f"{name:<14} {label[:58]:<58} {acc:>6.2f}% {nodes:>6} {secs:>8.1f}", flush=True)
        best = max(acc for acc, _, _ in results.values())
        default = results[next(iter(rows))][0]
        print(f"{name:<14} default is {best - default:.2f} points below the best", flush=True)


if __name__ == "__main__":
    main()
