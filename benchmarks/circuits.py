"""Local vs global wiring: class-circuit size, receptive field and accuracy.

    python benchmarks/circuits.py [--datasets digits[,fashion-mnist]] [--seeds 0,1,2]
                                  [--tolerance 1]

For each dataset and seed, trains the default layers twice — radius 2 (local) and
``--radius global`` — with the same layer spec (equal node count before pruning),
finds every class circuit with `lutmesh explain`'s search (mean ablation, training
split, tolerance in accuracy points) and prints one row per model plus the
local/global ratios: the measurement of the project's central claim that locality
makes circuits smaller. Fashion-MNIST runs only when its IDX files exist, and takes
about an hour per model on 2 cores. Slow: a benchmark, not a test.
"""

import argparse
import statistics
import time

import numpy as np

from common import available_datasets
from lutmesh.explain.circuits import AblatedModel, find_class_circuit
from lutmesh.explain.fields import receptive_fields
from lutmesh.train import TrainConfig, fit

LAYERS = {"digits": "8x8x8,4x4x40", "fashion-mnist": "14x14x16,7x7x40,4x4x120"}
EXTRA = {"fashion-mnist": dict(thermometer_bits=3, epochs=8, batch_size=256)}


def measure(net, ds, tolerance):
    bits = net.encode(net.quantize(np.asarray(ds.X_train, float)))
    model = AblatedModel(net, bits, np.asarray(ds.y_train))
    fields = receptive_fields(net)
    sizes, rfs = [], []
    for c in range(net.n_classes):
        circ = find_class_circuit(model, c, tolerance)
        keep = np.zeros(model.n_nodes, bool)
        keep[circ.nodes] = True
        sizes.append(len(circ.nodes))
        rf = np.zeros(net.n_features, bool)
        for i, f in enumerate(fields):
            rf |= f[keep[model.offsets[i]:model.offsets[i + 1]]].any(axis=0)
        rfs.append(int(rf.sum()))
    last_rf = fields[-1].sum(axis=1).mean()
    return statistics.mean(sizes), statistics.mean(rfs), float(last_rf)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--datasets", default="digits")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--tolerance", type=float, default=1.0)
    args = ap.parse_args()
    rows = []
    for name, ds in available_datasets(args.datasets):
        for seed in [int(s) for s in args.seeds.split(",")]:
            for wiring, radius in (("local r=2", 2), ("global", None)):
                cfg = TrainConfig(layers=LAYERS.get(name, LAYERS["digits"]), radius=radius,
                                  seed=seed, progress=False, **EXTRA.get(name, {}))
                t0 = time.perf_counter()
                result = fit(ds, cfg)
                net = result.netlist
                acc = float((net.predict(np.asarray(ds.X_test, float)) == ds.y_test).mean())
                size, rf, last_rf = measure(net, ds, args.tolerance / 100)
                rows.append((name, wiring, seed, net.n_nodes, acc, size, rf, last_rf,
                             time.perf_counter() - t0))
                print(f"  {name} {wiring} seed {seed}: {net.n_nodes} nodes, test {100 * acc:.2f}%, "
                      f"mean circuit {size:.0f} nodes, circuit field {rf:.1f}, "
                      f"last-layer field {last_rf:.1f} ({rows[-1][-1]:.0f} s)", flush=True)
    print()
    print(f"{'dataset':<14}{'wiring':<11}{'seed':>5}{'nodes':>7}{'test %':>8}"
          f"{'circuit nodes':>15}{'circuit field':>15}{'node field':>12}{'s':>6}")
    for r in rows:
        print(f"{r[0]:<14}{r[1]:<11}{r[2]:>5}{r[3]:>7}{100 * r[4]:>8.2f}{r[5]:>15.1f}"
              f"{r[6]:>15.1f}{r[7]:>12.1f}{r[8]:>6.0f}")
    for name in sorted({r[0] for r in rows}):
        loc = [r for r in rows if r[0] == name and r[1] == "local r=2"]
        glo = [r for r in rows if r[0] == name and r[1] == "global"]
        if loc and glo:
            m = lambda rs, k: statistics.mean(r[k] for r in rs)  # noqa: E731
            print(f"{name}: global/local circuit nodes {m(glo, 5) / m(loc, 5):.2f}x, "
                  f"circuit field {m(glo, 6) / m(loc, 6):.2f}x, node field "
                  f"{m(glo, 7) / m(loc, 7):.2f}x; test accuracy local {100 * m(loc, 4):.2f}% "
                  f"vs global {100 * m(glo, 4):.2f}% (mean of {len(loc)} seeds)")


if __name__ == "__main__":
    main()
