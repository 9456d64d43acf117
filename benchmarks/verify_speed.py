"""The full-rate check of `verify`, cocotb path vs bulk path, side by side.

    python benchmarks/verify_speed.py [--models digits,fashion] [--paths cocotb,bulk]
        [--digits build/model.npz] [--fashion MODEL.npz]
        [--bulk-samples 1000000] [--cocotb-samples 2000]
        [--fashion-bulk-samples 200000] [--fashion-cocotb-samples 500]

Models:
- ``digits``: the default digits model (``lutmesh train --dataset digits --seed 0``;
  trained here when ``--digits`` does not exist), 828 nodes since 2026-12-06;
- ``fashion``: a *random* netlist of the Fashion-MNIST default's shape (README,
  Training, since session 17: 28x28 8-bit pixels, 8 thermometer thresholds each,
  layers 14x14x24,7x7x48,4x4x160, K=4, radius 3; 9,616 nodes, 10 classes of 256
  nodes; until then 4 thresholds, 14x14x16,7x7x40,4x4x120, radius 2, 7,016 nodes).
  Its tables are random, not trained: build and simulation cost depend on the
  shape, not on what the tables hold; nothing is pruned, so it is larger than the
  trained model (8,581 nodes for seed 0), which ``--fashion MODEL.npz`` measures
  instead (ten minutes to train, so not trained here).

Each path gets a fresh build cache (the build is timed, not reused) and streams
random samples at full rate (scenario ``full_rate``, no SAIF run). Columns:
build s; harness samples/s (simulator wall time only: the cocotb testbench or the
compiled bulk harness); golden samples/s (the golden model each path uses:
``Netlist.predict_quantized`` for cocotb; for bulk the bit-sliced ``predict_planes``
on random payloads as bit planes, computed from the seed as ``verify`` computes its
extra samples, the computing included; timed alone); end-to-end samples/s (the
scenario's ``samples_per_second``: packing, simulation, golden model and comparison,
after the build and the golden model's one-time kernel load).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHAPE = dict(grid=(28, 28), bits=8, thresholds=8, layers=((14, 14, 24), (7, 7, 48), (4, 4, 160)),
             k=4, radius=3, classes=10)


def fashion_shaped(seed: int = 0):
    """A random valid netlist with the Fashion-MNIST model's shape (see module docstring)."""
    from lutmesh.netlist import LutLayer, Netlist, Quantizer, Readout, ThermometerEncoder
    from lutmesh.testing import grid_positions, local_candidates

    rng = np.random.default_rng(seed)
    n_feat, top = SHAPE["grid"][0] * SHAPE["grid"][1], (1 << SHAPE["bits"]) - 1
    ths = tuple(np.sort(rng.choice(np.arange(1, top + 1), SHAPE["thresholds"], replace=False))
                for _ in range(n_feat))
    encoder = ThermometerEncoder(ths, grid_positions(SHAPE["grid"]), SHAPE["grid"])
    quantizer = Quantizer(np.full(n_feat, SHAPE["bits"]), np.ones(n_feat), np.zeros(n_feat))
    layers, prev_pos, prev_grid = [], encoder.bit_positions, encoder.grid
    for rows, cols, ch in SHAPE["layers"]:
        pos = grid_positions((rows, cols), ch)
        cands = local_candidates(pos, (rows, cols), prev_pos, prev_grid, SHAPE["radius"])
        inputs = np.stack([rng.choice(c, SHAPE["k"], replace=False) for c in cands])
        tables = rng.integers(0, 2, size=(len(pos), 1 << SHAPE["k"]), dtype=np.uint8)
        layers.append(LutLayer((rows, cols), pos, inputs, tables, SHAPE["radius"]))
        prev_pos, prev_grid = pos, (rows, cols)
    groups = tuple(np.array_split(rng.permutation(len(prev_pos)), SHAPE["classes"]))
    return Netlist(quantizer, encoder, tuple(layers), Readout(tuple(np.sort(g) for g in groups)),
                   meta={"dataset": "random", "shape": "fashion-mnist"})


def digits_model(path: Path):
    from lutmesh.netlist import Netlist

    if not path.exists():
        subprocess.run([sys.executable, "-m", "lutmesh", "train", "--dataset", "digits",
                        "--seed", "0", "--quiet", "--out", str(path)], check=True)
    return Netlist.load(path)


def golden_rate(net, samples: int, manifest: dict | None) -> float:
    """The cocotb path's golden model on codes, or (``manifest`` given) the bulk path's
    on random payloads as bit planes computed from a seed, as ``verify`` computes them."""
    from lutmesh.bitsliced import predict_planes
    from lutmesh.samples import random_inputs
    from lutmesh.sim.bulk import RandomPayloads

    if manifest is None:
        q = random_inputs(net, samples, seed=1)
        t0 = time.perf_counter()
        for i in range(0, len(q), 1 << 15):
            net.predict_quantized(q[i:i + 1 << 15])
        return samples / (time.perf_counter() - t0)
    width = next(p["width"] for p in manifest["ports"] if p["name"] == "i__payload")
    fields = [(f["lsb"], f["width"]) for f in manifest["features"]]
    random = RandomPayloads.draw(samples, width, seed=1)
    t0 = time.perf_counter()
    predict_planes(net, fields, random.planes, samples)
    return samples / (time.perf_counter() - t0)


def one_path(net, path: str, samples: int) -> dict:
    """A fresh build, then one full-rate stream of ``samples`` random samples."""
    from lutmesh.samples import random_raw_inputs
    from lutmesh.sim.scoreboard import Scenario
    from lutmesh.sim.verify import verify

    n_x = samples if path == "cocotb" else min(samples, 1000)
    X = random_raw_inputs(net, n_x, seed=0)
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        os.environ["LUTMESH_CACHE_DIR"] = cache
        r = verify(net, X, out, scenarios=(Scenario("full_rate", path=path),), activity=False,
                   bulk_samples=samples - n_x, log=lambda *_: None)
        manifest = json.loads((Path(out) / "rtl" / "manifest.json").read_text())
    full = r["scenarios"][0]
    assert r["passed"] and full["checked"] == samples, full["problems"]
    sim_s = full.get("simulator_seconds", full["wall_seconds"])
    build_s = full["build_seconds"] if path == "bulk" else r["build_seconds"]
    return {"build_s": build_s, "harness": samples / sim_s,
            "golden": golden_rate(net, min(samples, 50_000) if path == "cocotb" else samples,
                                  manifest if path == "bulk" else None),
            "end_to_end": full["samples_per_second"], "samples": samples}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}; "
            f"load average at start {os.getloadavg()[0]:.1f} (a shared machine: other jobs "
            f"run beside this one, so rates move by tens of percent between runs)")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="digits,fashion")
    ap.add_argument("--paths", default="cocotb,bulk")
    ap.add_argument("--digits", type=Path, default=Path("build/model.npz"))
    ap.add_argument("--fashion", type=Path, default=None,
                    help="a trained Fashion-MNIST netlist instead of the random one")
    ap.add_argument("--bulk-samples", type=int, default=1_000_000)
    ap.add_argument("--fashion-bulk-samples", type=int, default=200_000)
    ap.add_argument("--cocotb-samples", type=int, default=2000)
    ap.add_argument("--fashion-cocotb-samples", type=int, default=500)
    args = ap.parse_args()
    from lutmesh.netlist import Netlist

    print(machine())
    print(f"{'model':<9} {'nodes':>6} {'path':<7} {'samples':>9} {'build s':>8} "
          f"{'harness/s':>10} {'golden/s':>10} {'end-to-end/s':>13}")
    for name in args.models.split(","):
        net = (digits_model(args.digits) if name == "digits" else
               Netlist.load(args.fashion) if args.fashion else fashion_shaped())
        counts = ((args.cocotb_samples, args.bulk_samples) if name == "digits" else
                  (args.fashion_cocotb_samples, args.fashion_bulk_samples))
        for path, samples in zip(("cocotb", "bulk"), counts):
            if path not in args.paths.split(","):
                continue
            r = one_path(net, path, samples)
            print(f"{name:<9} {net.n_nodes:>6} {path:<7} {samples:>9,} {r['build_s']:>8.1f} "
                  f"{r['harness']:>10,.0f} {r['golden']:>10,.0f} {r['end_to_end']:>13,}",
                  flush=True)


if __name__ == "__main__":
    main()
