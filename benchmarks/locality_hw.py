"""Locality in silicon: routed wire, Fmax and energy of a local vs a global mesh.

    python benchmarks/locality_hw.py [--radii 2,global] [--train-seeds 0]
                                     [--pnr-seeds 5] [--placements free,grid]
                                     [--out build/locality_hw]

Trains the default digits layer spec (``8x8x8,4x4x40``, equal node count) once per
radius and training seed with ``lutmesh train``, then runs ``lutmesh report`` on
iCE40 UP5K for every placement with ``--seeds N`` (the Verilog emitted and the
switching activity recorded once per model, then reused). Prints one row per model
and placement: LUT4s, routed wire (PIPs) per mesh node and in total, Fmax min /
median / max over the placement seeds, and the energy estimate with and without
the interconnect term, then the local/global ratios. Finished runs (a report.json
in place) are reused, so an interrupted run resumes. About 3 minutes per nextpnr
run on 2 busy cores: a benchmark, not a test.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

LAYERS = "8x8x8,4x4x40"


def lutmesh(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "lutmesh", *args], check=True)


def train(out: Path, radius: str, seed: int) -> Path:
    model = out / f"model_r{radius}_s{seed}.npz"
    if not model.exists():
        lutmesh("train", "--dataset", "digits", "--layers", LAYERS, "--radius", radius,
                "--seed", str(seed), "--quiet", "--out", str(model))
    return model


def report(model: Path, out: Path, placement: str, pnr_seeds: int, first: Path | None) -> dict:
    """``lutmesh report`` on iCE40 UP5K; after the first, reusing its Verilog and activity."""
    rdir = out / f"{model.stem}_{placement}"
    path = rdir / "ice40-up5k" / "report.json"
    if not path.exists():
        args = ["report", str(model), "--target", "ice40-up5k", "--out", str(rdir),
                "--placement", placement, "--seeds", str(pnr_seeds)]
        if first is not None:
            args += ["--rtl", str(first / "rtl"), "--activity",
                     str(first / "activity" / "activity.json")]
        lutmesh(*args)
    return json.loads(path.read_text())


def row(radius: str, seed: int, placement: str, r: dict) -> dict:
    e, g, o = r["energy_pj_per_inference"], r["routing"], r["fmax_mhz_over_seeds"]
    return {"radius": radius, "seed": seed, "placement": placement, "luts": r["luts"],
            "accuracy": r["accuracy_test"], "wires_per_node": g["wires_per_node_mean"],
            "wires_total": g["wires_total"], "fmax_min": o["min"], "fmax_median": o["median"],
            "fmax_max": o["max"], "energy": e["total"], "interconnect": e["interconnect"],
            "energy_without": e["total_without_interconnect"], "seeds": len(r["seeds"])}


def print_table(rows: list[dict]) -> None:
    print("| radius | seed | placement | acc. | LUT4s | wires/node | wires | Fmax min/med/max "
          "(seeds) | energy pJ (w/o interconnect) | interconnect pJ |")
    print("|---|---:|---|---:|---:|---:|---:|---|---:|---:|")
    for x in rows:
        print(f"| {x['radius']} | {x['seed']} | {x['placement']} | {100 * x['accuracy']:.2f}% | "
              f"{x['luts']:,} | {x['wires_per_node']:.2f} | {x['wires_total']:,} | "
              f"{x['fmax_min']:.1f} / {x['fmax_median']:.1f} / {x['fmax_max']:.1f} ({x['seeds']}) | "
              f"{x['energy']:.1f} ({x['energy_without']:.1f}) | {x['interconnect']:.1f} |")
    by = {(x["radius"], x["placement"]): x for x in rows if x["seed"] == rows[0]["seed"]}
    for placement in sorted({x["placement"] for x in rows}):
        local, glob = by.get(("2", placement)), by.get(("global", placement))
        if local and glob:
            print(f"\n{placement}: global/local wires per node "
                  f"{glob['wires_per_node'] / local['wires_per_node']:.2f}x, interconnect "
                  f"{glob['interconnect'] / local['interconnect']:.2f}x, energy "
                  f"{glob['energy'] / local['energy']:.2f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--radii", default="2,global")
    p.add_argument("--train-seeds", default="0")
    p.add_argument("--pnr-seeds", type=int, default=5)
    p.add_argument("--placements", default="free,grid")
    p.add_argument("--out", type=Path, default=Path("build/locality_hw"))
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for radius in args.radii.split(","):
        for seed in (int(s) for s in args.train_seeds.split(",")):
            model = train(args.out, radius, seed)
            placements = args.placements.split(",")
            first = args.out / f"{model.stem}_{placements[0]}"
            for placement in placements:
                r = report(model, args.out, placement, args.pnr_seeds,
                           None if placement == placements[0] else first)
                rows.append(row(radius, seed, placement, r))
    print_table(rows)


if __name__ == "__main__":
    main()
