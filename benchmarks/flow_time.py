"""Wall time of each `lutmesh flow` stage for the default model: first run, then cached.

    python benchmarks/flow_time.py [--out DIR] [--target ice40-up5k]

The first run starts from an empty output directory and an empty Verilator cache
(YoWASP's compiled-tool cache is kept: it is a one-off per machine); the second run
reuses every stage. Times are read from each run's `summary.md`.
"""

import argparse
import os
import re
import tempfile
import time
from pathlib import Path


def stage_times(summary: Path) -> dict:
    rows = re.findall(r"^\| (.+?) \| ([\d.]+) \| (yes|no) \|$", summary.read_text(), re.M)
    return {name: (float(sec), reused == "yes") for name, sec, reused in rows}


def main():
    from lutmesh.cli import main as lutmesh

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--target", default="ice40-up5k")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "build"
        os.environ["LUTMESH_CACHE_DIR"] = str(Path(tmp) / "cache")
        runs = []
        for _ in range(2):
            t0 = time.perf_counter()
            assert lutmesh(["flow", "--out", str(out), "--target", args.target]) == 0
            runs.append((time.perf_counter() - t0, stage_times(out / "summary.md")))
    print(f"\n{'stage':<24}{'first run s':>12}{'cached run s':>14}")
    for name in runs[0][1]:
        print(f"{name:<24}{runs[0][1][name][0]:>12.1f}{runs[1][1][name][0]:>14.1f}")
    print(f"{'total':<24}{runs[0][0]:>12.1f}{runs[1][0]:>14.2f}")


if __name__ == "__main__":
    main()
