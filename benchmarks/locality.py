"""Class circuits a person can read: size, field and accuracy of each class's detector
circuit, local against global wiring, with the sparse linear reference.

    python benchmarks/locality.py [--datasets digits] [--radii 1,2,global] [--k 4]
                                  [--presets default,explainable] [--seeds 0]
                                  [--tolerance 1] [--bound detector] [--keep-inputs]
                                  [--models DIR]

For each dataset × radius × K × preset × seed: trains a model, finds every class
circuit with `lutmesh explain`'s search (mean ablation, training split, detector
bound by default) and prints test accuracy, node count and the per-class means of
circuit nodes, field (inputs read), edges, literals, wire length (grid cells) and
balanced test accuracy. Then the global/local ratio of each circuit metric (mean
and spread over seeds), and per dataset the per-class L1 logistic regression
reference on the same split. The full grid (3 datasets × 3 radii × 3 K × 2 presets
× 3 seeds) is hours on 2 cores; the defaults are the digits row set (~15 s per
model). A Fashion-MNIST row takes ~8 minutes of training and ~14 of circuit search
here: ``--models DIR`` keeps the trained models, so that a rerun searches only.
Slow: a benchmark, not a test.
"""

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from common import available_datasets
from lutmesh.explain.circuits import AblatedModel
from lutmesh.explain.measures import describe_circuit
from lutmesh.explain.reference import l1_logistic
from lutmesh.names import bit_names, layer_names
from lutmesh.netlist import Netlist
from lutmesh.train import fit
from lutmesh.train.config import load_config

METRICS = ("nodes", "field", "edges", "literals", "wire_length", "balanced_accuracy_test")


def circuit_means(net, ds, tolerance: float, bound: str, hold_inputs: bool = True,
                  parts: int = 1) -> dict:
    """Mean over classes of every circuit metric (the detector bound by default)."""
    X_train, y_train = np.asarray(ds.X_train, float), np.asarray(ds.y_train)
    model = AblatedModel(net, net.encode(net.quantize(X_train)), y_train)
    test = AblatedModel(net, net.encode(net.quantize(np.asarray(ds.X_test, float))),
                        np.asarray(ds.y_test), constants=model.constants,
                        bit_constants=model.bit_constants)
    names, labels = layer_names(net), bit_names(net)
    entries = [describe_circuit(model, test, c, tolerance, bound, names, labels,
                                hold_inputs, parts)[2]
               for c in range(net.n_classes)]
    return {m: statistics.mean(e[m] for e in entries) for m in METRICS}


def trained(ds, name, radius, k, preset, seed, models: Path | None):
    """The row's model: trained, or read back from ``models`` where an earlier run
    saved it (a Fashion-MNIST model takes 7-10 minutes to train here)."""
    # the data's shape defaults first (MNIST-1D's recipe, Fashion-MNIST's layers), as
    # `lutmesh train` applies them, then the preset, then this row's radius and K
    cfg = load_config(preset=preset, data=ds, radius="global" if radius is None else radius,
                      lut_inputs=k, seed=seed, progress=False)
    path = None if models is None else models / (
        f"{name}-r{'global' if radius is None else radius}-k{k}-{preset}-s{seed}.npz")
    if path is not None and path.exists():
        return Netlist.load(path)
    net = fit(ds, cfg).netlist
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        net.save(path)
    return net


def run_one(ds, name, radius, k, preset, seed, tolerance, bound, hold_inputs=True,
            models: Path | None = None):
    t0 = time.perf_counter()
    net = trained(ds, name, radius, k, preset, seed, models)
    acc = float((net.predict(np.asarray(ds.X_test, float)) == ds.y_test).mean())
    row = {"dataset": name, "radius": "global" if radius is None else radius, "k": k,
           "preset": preset, "seed": seed, "model_nodes": net.n_nodes, "test": acc,
           **circuit_means(net, ds, tolerance, bound, hold_inputs)}
    row["s"] = time.perf_counter() - t0
    return row


def print_table(rows):
    head = (f"{'dataset':<10}{'radius':>7}{'K':>3}{'preset':>13}{'seed':>5}{'nodes':>7}"
            f"{'test %':>8}{'c.nodes':>9}{'field':>7}{'edges':>7}{'literals':>9}{'wire':>7}"
            f"{'bal.test %':>11}{'s':>5}")
    print(head)
    for r in rows:
        print(f"{r['dataset']:<10}{r['radius']!s:>7}{r['k']:>3}{r['preset']:>13}{r['seed']:>5}"
              f"{r['model_nodes']:>7}{100 * r['test']:>8.2f}{r['nodes']:>9.1f}{r['field']:>7.1f}"
              f"{r['edges']:>7.1f}{r['literals']:>9.1f}{r['wire_length']:>7.1f}"
              f"{100 * r['balanced_accuracy_test']:>11.2f}{r['s']:>5.0f}")


def print_ratios(rows):
    """Global/local ratio of each metric, per (dataset, K, preset, local radius)."""
    keys = {(r["dataset"], r["k"], r["preset"]) for r in rows}
    for d, k, p in sorted(keys, key=str):
        glo = {r["seed"]: r for r in rows if (r["dataset"], r["k"], r["preset"], r["radius"])
               == (d, k, p, "global")}
        for radius in sorted({r["radius"] for r in rows if r["radius"] != "global"}):
            loc = {r["seed"]: r for r in rows if (r["dataset"], r["k"], r["preset"],
                                                  r["radius"]) == (d, k, p, radius)}
            seeds = sorted(set(glo) & set(loc))
            if not seeds:
                continue
            parts = []
            for m in METRICS[:-1]:
                ratios = [glo[s][m] / max(loc[s][m], 1e-9) for s in seeds]
                spread = f" ±{statistics.stdev(ratios):.2f}" if len(ratios) > 1 else ""
                parts.append(f"{m} {statistics.mean(ratios):.2f}{spread}")
            print(f"{d} K={k} {p}: global / radius {radius} ({len(seeds)} seeds): "
                  + ", ".join(parts))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--datasets", default="digits")
    ap.add_argument("--radii", default="1,2,global")
    ap.add_argument("--k", default="4")
    ap.add_argument("--presets", default="default,explainable")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--tolerance", type=float, default=1.0)
    ap.add_argument("--bound", default="detector")
    ap.add_argument("--keep-inputs", action="store_true",
                    help="circuits keep every input their nodes read (no input holding)")
    ap.add_argument("--models", type=Path, default=None,
                    help="directory to save each row's trained model in, and read it back "
                         "from on a later run")
    args = ap.parse_args()
    rows = []
    for name, ds in available_datasets(args.datasets):
        for preset in args.presets.split(","):
            for k in [int(v) for v in args.k.split(",")]:
                for radius in [None if r == "global" else int(r) for r in args.radii.split(",")]:
                    for seed in [int(s) for s in args.seeds.split(",")]:
                        rows.append(run_one(ds, name, radius, k, preset, seed,
                                            args.tolerance / 100, args.bound,
                                            not args.keep_inputs, args.models))
                        print_table(rows[-1:])
        ref = l1_logistic(ds.X_train, ds.y_train, ds.X_test, ds.y_test, range(len(set(ds.y_train))))
        print(f"{name}: L1 logistic reference: mean field "
              f"{statistics.mean(v['field'] for v in ref.values()):.1f}, balanced test "
              f"{100 * statistics.mean(v['balanced_accuracy_test'] for v in ref.values()):.2f}%")
    print()
    print_table(rows)
    print_ratios(rows)


if __name__ == "__main__":
    main()
