"""``lutmesh sweep``: many flows at once, embedded on Ray or on a cluster.

Imports only argparse at the top, like every stage's cli: Ray is an optional extra,
and ``lutmesh --help`` must not need it.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

__all__ = ["add_sweep_arguments", "run_sweep"]

EXTRA = "pip install 'lutmesh[sweep]'"


def add_sweep_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("sweep", type=Path, help="sweep file (TOML): [base], [space], [search]")
    p.add_argument("--out", type=Path, help="output directory (default: build/sweep-<name>)")
    p.add_argument("--address", help="join a running Ray cluster: 'auto', HOST:PORT or "
                                     "ray://HOST:PORT (default: start Ray on this machine)")
    p.add_argument("--resume", action="store_true",
                   help="keep the finished trials of an earlier run in --out; run the rest")
    p.add_argument("--max-concurrent", type=int, metavar="N",
                   help="at most N trials at once (default: one per free CPU)")


def require_extra() -> None:
    """Ray and Optuna are the ``[sweep]`` extra; say how to get them, in one line."""
    from ..errors import ConfigError

    missing = [m for m in ("ray", "optuna") if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(f"lutmesh sweep needs {' and '.join(missing)}: {EXTRA}")


def run_sweep(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from .spec import load_sweep

    spec = load_sweep(args.sweep)
    if args.max_concurrent is not None and args.max_concurrent < 1:
        raise ConfigError(f"--max-concurrent {args.max_concurrent}: expected >= 1")
    require_extra()
    from .runner import run_sweep_spec

    out = args.out or Path("build") / f"sweep-{args.sweep.stem}"
    summary = run_sweep_spec(spec, out, address=args.address, resume=args.resume,
                             max_concurrent=args.max_concurrent)
    print(f"sweep done in {summary['wall_s']:.1f} s: {summary['ran']} trials run, "
          f"{summary['kept']} kept; {summary['ok']} ok, {summary['stopped']} stopped early, "
          f"{summary['failed']} failed")
    print(f"wrote {out / 'results.csv'}, results.json, pareto.png, sweep.html")
    return 0 if summary["failed"] == 0 else 1
