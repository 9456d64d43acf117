"""Verilator build time and simulated speed of `verify` for 1k / 5k / 20k-node netlists.

    python benchmarks/verify_speed.py [--sizes 1000,5000,20000] [--samples 2000]

Each size gets a fresh build cache (so the build is timed, not reused), then one
full-rate stream of random samples through the cocotb testbench, without the
SAIF run. Printed: build seconds, simulated cycles/s and samples/s at full rate.
The driver is cocotb's Python, two triggers per cycle; the last column times the
same compiled model with a second run to show the per-run start-up.
"""

import argparse
import os
import tempfile
import time


def one(nodes: int, samples: int) -> dict:
    from lutmesh.sim.scoreboard import Scenario
    from lutmesh.sim.verify import verify
    from lutmesh.testing import random_netlist, random_raw_inputs

    net = random_netlist(0, features=64, k=4, layers=3, nodes_per_layer=nodes // 3, classes=10,
                         radius=2, p_unused=0.05)
    X = random_raw_inputs(net, samples, seed=0)
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        os.environ["LUTMESH_CACHE_DIR"] = cache
        t0 = time.perf_counter()
        r = verify(net, X, out, scenarios=(Scenario("full_rate"),), activity=False,
                   log=lambda *_: None)
        first = time.perf_counter() - t0
        assert r["passed"], r["scenarios"]
        t0 = time.perf_counter()
        verify(net, X, out, scenarios=(Scenario("full_rate"),), activity=False,
               log=lambda *_: None)
        again = time.perf_counter() - t0
    full = r["scenarios"][0]
    return {"nodes": net.n_nodes, "build_s": r["build_seconds"],
            "cycles_per_s": full["cycles_per_second"],
            "samples_per_s": round(full["accepted"] / full["wall_seconds"]),
            "first_run_s": round(first, 1), "cached_run_s": round(again, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--samples", type=int, default=2000)
    args = ap.parse_args()
    print(f"{'nodes':>7} {'build s':>8} {'cycles/s':>9} {'samples/s':>10} {'first run s':>12} "
          f"{'cached run s':>13}")
    for size in map(int, args.sizes.split(",")):
        r = one(size, args.samples)
        print(f"{r['nodes']:>7} {r['build_s']:>8.1f} {r['cycles_per_s']:>9,} "
              f"{r['samples_per_s']:>10,} {r['first_run_s']:>12.1f} {r['cached_run_s']:>13.1f}",
              flush=True)


if __name__ == "__main__":
    main()
