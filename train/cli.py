"""``lutmesh train``: dataset in, netlist (and metrics.json beside it) out."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_train_arguments", "run_train"]

# option name -> (type for argparse, help); every one is a TrainConfig field
_OPTIONS = {
    "layers": (str, "node grids ROWSxCOLS[xCHANNELS], comma separated"),
    "lut_inputs": (int, "K, inputs per LUT node (2..8)"),
    "radius": (str, "Chebyshev locality radius, or 'global'; or one per layer, e.g. 0,2 "
                    "(0 on the first layer of an image: each node reads one pixel)"),
    "candidates": (int, "learnable candidate sources per input slot"),
    "feature_bits": (int, "quantiser width for non-integer features"),
    "thermometer_bits": (int, "thresholds per feature"),
    "epochs": (int, "maximum training epochs"),
    "batch_size": (int, "mini-batch size"),
    "learning_rate": (float, "Adam learning rate (cosine decay)"),
    "init_std": (float, "std of the initial table logits"),
    "temperature": (str, "readout softmax temperature, or 'auto'"),
    "length_cost": (float, "cost per cell of link length in the input choice"),
    "validation_fraction": (float, "share of training data held out for early stopping; "
                                   "0: train on all of it and keep the last epoch"),
    "patience": (int, "epochs without validation gain before stopping (with a split)"),
    "augment_shift": (int, "random image shifts of up to N pixels while training"),
    "augment_subpixel": (float, "random image shifts of up to this fraction of a pixel "
                                "(bilinear) while training; 0 turns them off"),
    "augment_flip": (bool, "mirror a random half of every mini-batch left-right (images)"),
    "lut_budget": (int, "scale every layer's channels down by one factor until the "
                        "estimated iCE40 LUT4 count (encoder, nodes, readout) fits N "
                        "(an UP5K has 5,280 logic cells; flip-flops alone take some: "
                        "about 3,900 LUT4s fill one with digits-sized inputs; carry "
                        "cells of features wider than 5 bits come on top)"),
}


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="digits",
                   help="digits, iris, wine, breast-cancer, fashion-mnist, mnist, mnist1d, "
                        "or a .csv / .npz file (default: digits)")
    p.add_argument("--data-dir", type=Path, help="directory of IDX files (mnist, fashion-mnist)")
    p.add_argument("--label-column", help="label column of a CSV file (default: label)")
    p.add_argument("--out", type=Path, default=Path("build/model.npz"), help="netlist file")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--config", type=Path, help="TOML file with any of the options below")
    p.add_argument("--preset", default="default",
                   help="starting settings: 'default' (the most accurate per LUT) or "
                        "'explainable' (small class-detector circuits, see the README); "
                        "--config and the options below override it")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    group = p.add_argument_group("model and training options (override --config)")
    for name, (kind, text) in _OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        if kind is bool:
            group.add_argument(flag, dest=name, action="store_const", const=True, help=text)
        else:
            group.add_argument(flag, dest=name, type=kind, help=text)


def run_train(args: argparse.Namespace) -> int:
    from ..datasets import load_dataset
    from .artifacts import save_trained
    from .config import load_config, radius_text
    from .trainer import fit

    from .defaults import shape_defaults

    overrides = {name: getattr(args, name) for name in _OPTIONS}
    dataset = load_dataset(args.dataset, data_dir=args.data_dir, label_column=args.label_column)
    config = load_config(args.config, preset=args.preset, data=dataset, seed=args.seed,
                         **overrides)
    config = config.replace(progress=not args.quiet)
    print(f"dataset {dataset.name}: {len(dataset.X_train)} train / {len(dataset.X_test)} test, "
          f"{dataset.n_features} features, {dataset.n_classes} classes")
    print(f"defaults for {shape_defaults(dataset)[1]}; model: layers {config.layers}, "
          f"K={config.lut_inputs}, radius {radius_text(config.radius)}")
    result = fit(dataset, config)
    net, m = result.netlist, result.metrics
    metrics_path = save_trained(result, args.out, args.dataset)
    acc = m["accuracy"]
    print(f"exported netlist: {net.n_nodes} nodes "
          f"({' + '.join(map(str, m['nodes_after_pruning']))}; "
          f"{sum(m['nodes_before_pruning'])} before pruning), "
          f"{net.encoder.n_bits} encoded bits, K={config.lut_inputs}, radius "
          f"{radius_text(_radii(net))}")
    split = "validation" in acc  # none held out: all data fitted, the last epoch kept
    held_out = f"validation {100 * acc['validation']:.2f}%" if split else "no validation split"
    print(f"accuracy (exported netlist): train {100 * acc['train']:.2f}%  {held_out}  test "
          f"{100 * acc['test']:.2f}%   soft-hard gap {100 * m['soft_hard_gap']:+.2f} pt"
          + ("" if split else " (on train)"))
    if "budget" in m:
        b = m["budget"]
        print(f"sized for {b['lut_budget']} iCE40 LUT4s: layers {b['layers']} "
              f"(estimated {b['estimate']['total']} LUT4s before pruning)")
        if b.get("encoder_carries"):
            print(f"note: features wider than 5 bits compare on carry chains, ~"
                  f"{b['encoder_carries']} carry cells outside the LUT4 budget, each an "
                  f"iCE40 logic cell (--feature-bits 4 makes every threshold one LUT4)")
    kept = (f"best epoch {m['best_epoch']} of {m['epochs_run']}" if split
            else f"the last of {m['epochs_run']} epochs kept")
    print(f"trained in {m['train_seconds']:.1f} s ({kept})")
    print(f"wrote {args.out} and {metrics_path}")
    return 0


def _radii(net):
    """The radius every layer of ``net`` records, one value when they agree."""
    radii = tuple(layer.radius for layer in net.layers)
    return radii[0] if len(set(radii)) == 1 else radii
