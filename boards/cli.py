"""``lutmesh build`` (bitstream for a board) and ``lutmesh run`` (host client)."""

import argparse
from pathlib import Path

from ..errors import ConfigError

__all__ = ["add_build_arguments", "run_build", "add_run_arguments", "run_run"]

EXIT_MISMATCH = 1


def add_build_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", type=Path, nargs="?", help="netlist file (.npz)")
    p.add_argument("--board", help="board name (see --list-boards)")
    p.add_argument("--list-boards", action="store_true",
                   help="list the amaranth-boards boards with a UART, and exit")
    p.add_argument("--out", type=Path, help="output directory (default: build/board/NAME)")
    p.add_argument("--baud", type=int, default=115200, help="UART baud rate (default 115200)")
    p.add_argument("--seed", type=int, default=1, help="nextpnr placement seed")
    p.add_argument("--program", action="store_true",
                   help="load the bitstream into the board through openFPGALoader")


def run_build(args: argparse.Namespace) -> int:
    from .platforms import boards, get_board

    if args.list_boards:
        print(f"{'board':<24}{'family':<8}{'device':<16}{'LUT4s':>8}")
        for name, board in boards().items():
            cap = f"{board.capacity_luts:,}" if board.capacity_luts else "?"
            print(f"{name:<24}{board.family:<8}{board.device:<16}{cap:>8}")
        return 0
    if args.model is None or args.board is None:
        raise ConfigError("lutmesh build needs a model file and --board NAME "
                          "(or --list-boards)")
    board = get_board(args.board)
    if not 9600 <= args.baud <= 3_000_000:
        raise ConfigError(f"--baud {args.baud}: expected 9600 .. 3000000")
    from ..netlist import Netlist
    from .build import build_bitstream

    net = Netlist.load(args.model)
    out = args.out or Path("build") / "board" / board.name
    record = build_bitstream(net, board, out, baud=args.baud, seed=args.seed)
    cells = record["logic_cells"]
    used = f"{cells['used']:,} / {cells['available']:,} logic cells" if cells else "? cells"
    fmax = record["fmax_mhz"]
    print(f"{board.name}: {used}, Fmax {fmax:.1f} MHz (clock {record['clock_mhz']:g} MHz), "
          f"built in {record['seconds']:.0f} s")
    if fmax is not None and fmax < record["clock_mhz"]:
        print(f"warning: Fmax {fmax:.1f} MHz is below the board clock; the design may fail")
    print(f"wrote {out / record['bitstream']} and {out / 'build.json'}")
    if args.program:
        from .program import program_bitstream

        program_bitstream(board, out / record["bitstream"])
        print(f"programmed {board.name}; now: lutmesh run {args.model} --port /dev/ttyUSBx")
    return 0


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", type=Path, help="netlist file (.npz) the board was built from")
    p.add_argument("--port", required=True, help="serial port of the board (/dev/ttyUSB1 …)")
    p.add_argument("--baud", type=int, default=115200, help="UART baud rate (default 115200)")
    p.add_argument("--dataset", help="dataset name or .csv/.npz file (default: the model's "
                                     "own; 'random' for random features)")
    p.add_argument("--data-dir", type=Path, help="directory of IDX files")
    p.add_argument("--label-column", help="label column of a CSV file")
    p.add_argument("--samples", type=int, help="number of test samples (default: all)")
    p.add_argument("--seed", type=int, default=0, help="seed of random features")
    p.add_argument("--timeout", type=float, default=2.0,
                   help="seconds to wait for an answer (default 2)")
    p.add_argument("--window", type=int, default=8,
                   help="frames sent ahead of their answers (default 8)")


def run_run(args: argparse.Namespace) -> int:
    from ..netlist import Netlist
    from ..samples import labelled_samples
    from .client import open_port, run_samples

    if args.samples is not None and args.samples < 1:
        raise ConfigError(f"--samples {args.samples}: expected a positive integer")
    if args.window < 1 or args.timeout <= 0:
        raise ConfigError("--window must be >= 1 and --timeout > 0")
    net = Netlist.load(args.model)
    X, y, source = labelled_samples(net, args.dataset, args.samples, args.seed,
                                    data_dir=args.data_dir, label_column=args.label_column)
    link = open_port(args.port, args.baud, args.timeout)
    print(f"running {args.model} on the board at {args.port}: {source}")
    try:
        result = run_samples(link, net, X, y, window=args.window, timeout=args.timeout)
    finally:
        link.close()
    acc = f", accuracy {100 * result.accuracy:.2f}%" if result.accuracy is not None else ""
    print(f"{result.samples} samples, {len(result.mismatches)} mismatches with the golden "
          f"model, {len(result.errors)} frame errors{acc}; {result.samples_per_s:,.0f} samples/s")
    bad = result.mismatches + result.errors
    if bad:
        i = min(bad)
        print(f"first bad sample {i}: board said {result.answers[i]}, golden model class "
              f"{int(result.expected[i])}")
        return EXIT_MISMATCH
    return 0
