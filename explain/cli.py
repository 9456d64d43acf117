"""``lutmesh explain``: read a trained circuit."""

import argparse
from pathlib import Path

from ..errors import ConfigError, DataError

__all__ = ["add_explain_arguments", "run_explain"]


def add_explain_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", type=Path, help="netlist file (.npz)")
    p.add_argument("--class", dest="cls", action="append",
                   help="class id or name whose circuit to find (repeatable; default: all)")
    p.add_argument("--sample", type=int, default=0,
                   help="audit trail of this test-split sample (default 0)")
    p.add_argument("--dataset", help="dataset name or .csv/.npz file (default: the model's own)")
    p.add_argument("--data-dir", type=Path, help="directory of IDX files")
    p.add_argument("--label-column", help="label column of a CSV file")
    p.add_argument("--bound", default="detector",
                   help="what a class circuit keeps: 'detector' (its class's own score >= "
                        "threshold, balanced one-vs-rest accuracy; default) or 'overall' "
                        "(the argmax decision: overall and one-vs-rest accuracy)")
    p.add_argument("--tolerance", type=float, default=1.0,
                   help="accuracy points a class circuit may lose (default 1)")
    p.add_argument("--keep-inputs", action="store_true",
                   help="a circuit keeps every input its nodes read (by default the search "
                        "then holds those it can do without at their training majority)")
    p.add_argument("--parts", type=int, default=1, metavar="K",
                   help="the bound must also hold on each of K random parts of the training "
                        "split (default 1: the whole only); 2 trades about one node per "
                        "circuit for about half a point of balanced test accuracy")
    p.add_argument("--export-circuit", action="store_true",
                   help="write each class circuit as a netlist (circuit_C.npz)")
    p.add_argument("--compare", type=Path, metavar="MODEL",
                   help="a second netlist of the same data (e.g. global wiring against this "
                        "model's local wiring): its class circuits are found the same way, "
                        "drawn beside this model's, and compared in compare.json")
    p.add_argument("--out", type=Path, default=Path("build/explain"), help="output directory")


def _classes(net, wanted):
    if not wanted:
        return None
    names = [str(n) for n in net.class_names]
    out = []
    for w in wanted:
        if w in names:
            out.append(names.index(w))
        elif w.isdigit() and int(w) < net.n_classes:
            out.append(int(w))
        else:
            raise ConfigError(f"--class {w}: not a class of this model ({', '.join(names)})")
    return sorted(set(out))


def run_explain(args: argparse.Namespace) -> int:
    from ..netlist import Netlist
    from ..datasets import load_dataset
    from .explain import explain

    if args.bound not in ("detector", "overall"):
        raise ConfigError(f"--bound {args.bound}: expected detector or overall")
    if not 0 <= args.tolerance <= 100:
        raise ConfigError(f"--tolerance {args.tolerance}: expected 0 .. 100 (accuracy points)")
    if not 1 <= args.parts <= 16:
        raise ConfigError(f"--parts {args.parts}: expected 1 .. 16")
    net = Netlist.load(args.model)
    classes = _classes(net, args.cls)
    name = args.dataset or net.meta.get("dataset")
    if name is None or name == "random":
        raise DataError("explain needs labelled data: give --dataset NAME|FILE (this model "
                        "records no dataset of its own)")
    ds = load_dataset(name, data_dir=args.data_dir, label_column=args.label_column)
    if ds.n_features != net.n_features:
        raise DataError(f"{name}: {ds.n_features} features, the model expects {net.n_features}")
    other = Netlist.load(args.compare) if args.compare is not None else None
    result = explain(net, ds, args.out, classes=classes, sample=args.sample,
                     tolerance=args.tolerance / 100, bound=args.bound,
                     export_circuit=args.export_circuit, compare=other,
                     hold_inputs=not args.keep_inputs, parts=args.parts)
    extra = ", compare.json and compare/" if other is not None else ""
    print(f"wrote {args.out}/explain.html, explain.json, formulas.txt/json, fields.json, "
          f"circuits.json{extra} and pictures ({result['seconds']:.0f} s)")
    return 0
