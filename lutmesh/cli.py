"""The ``lutmesh`` command line.

Each subcommand is a small function taking the parsed arguments and returning an
exit code. User mistakes (a bad file, value or dataset) raise :class:`LutmeshError`
and become one line on stderr with exit code 2; anything else is a bug and keeps
its traceback. ``--debug`` shows the traceback for user errors too.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback
from pathlib import Path

from . import __version__
from .errors import LutmeshError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every other user error
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


# ---------------------------------------------------------------------------
# subcommands


def cmd_info(args: argparse.Namespace) -> int:
    from .netlist import Netlist

    net = Netlist.load(args.model)
    s = net.summary()
    if args.json:
        s["meta"] = net.meta
        print(json.dumps(s, indent=2))
        return 0
    info = net.meta
    print(f"netlist     {args.model}")
    print(f"dataset     {info.get('dataset', '?')}")
    print(f"features    {s['features']} -> {s['encoded_bits']} encoded bits "
          f"on a {s['input_grid'][0]}x{s['input_grid'][1]} grid")
    print(f"{'layer':<6}{'grid':>9}{'nodes':>8}{'K':>4}{'radius':>8}{'mean K':>8}")
    for i, layer in enumerate(s["layers"]):
        grid = f"{layer['grid'][0]}x{layer['grid'][1]}"
        radius = "global" if layer["radius"] is None else str(layer["radius"])
        print(f"{i:<6}{grid:>9}{layer['nodes']:>8}{layer['k']:>4}{radius:>8}"
              f"{layer['mean_arity']:>8.2f}")
    print(f"nodes       {s['nodes']}")
    print(f"classes     {len(s['classes'])}: {', '.join(s['classes'])}")
    acc = info.get("accuracy", {})
    if acc:
        order = sorted(acc, key=lambda k: (["train", "validation", "test"] + [k]).index(k))
        print("accuracy    " + "  ".join(f"{k} {100 * acc[k]:.2f}%" for k in order))
    else:
        print("accuracy    (not stored)")
    print(f"hash        {s['hash'][:16]}")
    return 0


# Every other subcommand lives in its stage's ``cli`` module, as a pair of functions:
# one adding the arguments, one running the command. Those modules import only
# argparse at the top; the heavy imports happen inside the run functions.
SUBCOMMANDS = [
    ("train", "train a local LUT mesh and export its netlist",
     "train.cli", "add_train_arguments", "run_train"),
    ("emit", "generate pipelined streaming Verilog from a netlist",
     "hdl.cli", "add_emit_arguments", "run_emit"),
    ("verify", "prove the RTL equals the golden model (cocotb + Verilator)",
     "sim.cli", "add_verify_arguments", "run_verify"),
    ("report", "LUTs, Fmax, latency and energy per FPGA target (Yosys + nextpnr)",
     "report.cli", "add_report_arguments", "run_report"),
    ("flow", "train, emit, verify and report in one go",
     "flow", "add_flow_arguments", "run_flow"),
    ("build", "bitstream for an FPGA board (UART inference top), optionally programmed",
     "boards.cli", "add_build_arguments", "run_build"),
    ("run", "stream samples to a board over serial and check every answer",
     "boards.cli", "add_run_arguments", "run_run"),
    ("explain", "node formulas, receptive fields, class circuits, audit trails, pictures "
     "(explain.html)", "explain.cli", "add_explain_arguments", "run_explain"),
    ("sweep", "many flows over a search space, on Ray (embedded or a cluster; extra [sweep])",
     "sweep.cli", "add_sweep_arguments", "run_sweep"),
]


# ---------------------------------------------------------------------------
# parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lutmesh",
        description="Turn data into small, fast, explainable FPGA circuits of local LUT meshes.",
    )
    parser.add_argument("--version", action="version", version=f"lutmesh {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("info", help="describe a netlist file (layers, K, nodes, accuracy)")
    p.add_argument("model", type=Path, help="netlist file (.npz)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=cmd_info)

    for name, help_text, module, add_arguments, run in SUBCOMMANDS:
        stage = importlib.import_module(f".{module}", __package__)
        p = sub.add_parser(name, help=help_text)
        getattr(stage, add_arguments)(p)
        p.set_defaults(func=getattr(stage, run))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except LutmeshError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"lutmesh {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"lutmesh {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
