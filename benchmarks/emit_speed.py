"""Elaboration + Verilog emission time and peak memory for 1k / 5k / 20k-node netlists.

    python benchmarks/emit_speed.py [--sizes 1000,5000,20000] [--k 4]

Each size runs in a fresh subprocess so that peak RSS belongs to that size alone.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time


def one(nodes: int, k: int) -> dict:
    from lutmesh.hdl.emit import emit_verilog
    from lutmesh.testing import random_netlist

    t0 = time.perf_counter()
    net = random_netlist(0, features=64, k=k, layers=3, nodes_per_layer=nodes // 3, classes=10,
                         radius=2, p_unused=0.05)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        path, manifest = emit_verilog(net, d)
        size = path.stat().st_size
    t2 = time.perf_counter()
    return {"nodes": net.n_nodes, "k": k, "generate_s": round(t1 - t0, 2),
            "emit_s": round(t2 - t1, 2), "verilog_mb": round(size / 1e6, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.k)))
        return
    print(f"{'nodes':>7} {'K':>3} {'emit s':>8} {'Verilog MB':>11} {'peak RSS MB':>12}")
    for size in map(int, args.sizes.split(",")):
        out = subprocess.run([sys.executable, __file__, "--one", str(size), "--k", str(args.k)],
                             capture_output=True, text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"{r['nodes']:>7} {r['k']:>3} {r['emit_s']:>8.2f} {r['verilog_mb']:>11.1f} "
              f"{r['peak_rss_mb']:>12}", flush=True)


if __name__ == "__main__":
    main()
