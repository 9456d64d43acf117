"""What Ray costs: a sweep of N trials against the same N runs one after the other.

    python benchmarks/sweep_overhead.py [--dataset digits] [--trials 8] [--until report|train]
                                        [--epochs E] [--layers SPEC] [--concurrency 1,2]
                                        [--out DIR]

Trials differ only in the seed. The baseline runs `lutmesh flow` (or `lutmesh train`
for --until train) once per seed, in a loop; then `lutmesh sweep` runs the same
trials at each concurrency. Every mode starts from empty output folders and its own
empty Verilator cache, so nobody reuses another's work; overhead = sweep at
concurrency 1 over the loop, minus one.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent / "lutmesh"


def timed(cmd: list, cache: Path) -> float:
    t0 = time.perf_counter()
    env = {**os.environ, "LUTMESH_CACHE_DIR": str(cache), "RAY_USAGE_STATS_ENABLED": "0"}
    subprocess.run([str(c) for c in cmd], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def write_inputs(work: Path, args) -> tuple[Path, Path]:
    config = work / "base.toml"
    lines = ["progress = false"]
    lines += [f"epochs = {args.epochs}"] if args.epochs else []
    lines += [f'layers = "{args.layers}"'] if args.layers else []
    config.write_text("\n".join(lines) + "\n")
    sweep = work / "sweep.toml"
    lines = [f'[base]\ndataset = "{args.dataset}"\ntargets = ["{args.target}"]',
             f'until = "{args.until}"', f'config = "{config.name}"',
             f"[space]\nseed = {list(range(args.trials))}"]
    sweep.write_text("\n".join(lines) + "\n")
    return config, sweep


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dataset", default="digits")
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--until", choices=("train", "report"), default="report")
    ap.add_argument("--epochs", type=int, help="training epochs (default: the trainer's)")
    ap.add_argument("--layers", help="layer spec of every trial (default: the trainer's)")
    ap.add_argument("--target", default="ice40-up5k")
    ap.add_argument("--concurrency", default="1,2")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    config, sweep = write_inputs(work, args)
    loop = 0.0
    for seed in range(args.trials):
        if args.until == "train":
            cmd = [BIN, "train", "--dataset", args.dataset, "--config", config, "--seed", seed,
                   "--quiet", "--out", work / "loop" / f"s{seed}" / "model.npz"]
        else:
            cmd = [BIN, "flow", "--dataset", args.dataset, "--config", config, "--seed", seed,
                   "--target", args.target, "--out", work / "loop" / f"s{seed}"]
        loop += timed(cmd, work / "cache-loop")
    print(f"{args.trials} {args.dataset} trials up to {args.until}, {os.cpu_count()} CPUs")
    print(f"{'mode':<26}{'wall s':>9}{'per trial s':>13}{'vs loop':>9}")
    print(f"{'one after the other':<26}{loop:>9.1f}{loop / args.trials:>13.1f}{'':>9}")
    for c in (int(x) for x in args.concurrency.split(",")):
        wall = timed([BIN, "sweep", sweep, "--out", work / f"sweep-c{c}", "--max-concurrent", c],
                     work / f"cache-c{c}")
        print(f"{f'sweep, concurrency {c}':<26}{wall:>9.1f}{wall / args.trials:>13.1f}"
              f"{wall / loop:>8.2f}x", flush=True)


if __name__ == "__main__":
    main()
