"""``lutmesh emit``: netlist to Verilog and manifest."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..errors import ConfigError

__all__ = ["add_emit_arguments", "add_emit_options", "emit_options", "run_emit"]


def add_emit_options(p: argparse.ArgumentParser) -> None:
    """The options that shape the emitted design (``emit`` and ``report`` share them)."""
    p.add_argument("--top", default="lutmesh_top", help="Verilog top module name")
    p.add_argument("--layers-per-stage", type=int, default=1,
                   help="a pipeline register after every N layers (default 1)")
    p.add_argument("--readout-stages", type=int, default=None,
                   help="registers in the popcount/argmax tree (default: one per level, for Fmax)")
    p.add_argument("--scores", action="store_true", help="also output per-class scores")


def add_emit_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", type=Path, help="netlist file (.npz)")
    p.add_argument("--out", type=Path, default=Path("build/rtl"), help="output directory")
    add_emit_options(p)


def emit_options(args: argparse.Namespace, net):
    """:class:`EmitOptions` from the command line, each value checked against the model."""
    from .emit import EmitOptions
    from .readout import readout_levels

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", args.top):
        raise ConfigError(f"--top {args.top!r}: not a Verilog identifier")
    if args.layers_per_stage < 1:
        raise ConfigError(f"--layers-per-stage {args.layers_per_stage}: expected >= 1")
    if args.readout_stages is not None:
        levels = sum(readout_levels(net.readout))
        if not 1 <= args.readout_stages <= levels:
            raise ConfigError(f"--readout-stages {args.readout_stages}: expected 1..{levels} "
                              f"for this model")
    return EmitOptions(args.top, args.layers_per_stage, args.readout_stages, args.scores)


def run_emit(args: argparse.Namespace) -> int:
    from ..netlist import Netlist
    from .emit import emit_verilog

    net = Netlist.load(args.model)
    path, manifest = emit_verilog(net, args.out, emit_options(args, net))
    print(f"wrote {path} ({path.stat().st_size} bytes) and {args.out / 'manifest.json'}")
    print(f"nodes {manifest['nodes']}, latency {manifest['latency_cycles']} cycles, "
          f"1 sample/cycle, hash {manifest['netlist_hash'][:16]}")
    return 0
