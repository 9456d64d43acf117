"""Report charts (matplotlib, headless): resources by stage, energy breakdown."""

from __future__ import annotations

import re
from pathlib import Path

from ..charts import pyplot, save_figure

__all__ = ["resources_chart", "energy_chart", "placement_chart"]


def resources_chart(report: dict, path: str | Path) -> Path:
    plt = pyplot()
    stages = list(report["cells_by_stage"])
    kinds = [("luts", report["lut_unit"] + "s"), ("ffs", "flip-flops"), ("carries", "carries")]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    width = 0.27
    for i, (key, label) in enumerate(kinds):
        values = [report["cells_by_stage"][s][key] for s in stages]
        xs = [j + (i - 1) * width for j in range(len(stages))]
        ax.bar(xs, values, width, label=label)
    ax.set_xticks(range(len(stages)), stages)
    ax.set_ylabel("cells (Yosys stat)")
    cap = f" of {report['capacity_luts']:,}" if report["capacity_luts"] else ""
    ax.set_title(f"{report['target']}: {report['luts']:,} {report['lut_unit']}s{cap}, "
                 f"{report['nodes']:,} nodes")
    ax.legend(frameon=False)
    ax.grid(axis="y", alpha=0.3)
    return save_figure(fig, path)


def energy_chart(report: dict, path: str | Path) -> Path:
    plt = pyplot()
    e = report["energy_pj_per_inference"]
    parts = {f"{k} logic": v for k, v in e["dynamic_by_stage"].items()}
    colours = ["C0"] * len(parts)
    for k, v in (e.get("interconnect_by_stage") or {}).items():
        parts[f"{k} wire"] = v
        colours.append("C3")
    parts["clock"] = e["clock"]
    parts["static"] = e["static"]
    colours += ["C1", "C2"]
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.28 * len(parts)))
    names = list(parts)
    ax.barh(names, [parts[n] for n in names], color=colours)
    ax.invert_yaxis()
    ax.set_xlabel("pJ per inference (estimate)")
    ax.set_title(f"{report['target']}: {e['total']:.1f} pJ/inference at "
                 f"{e['frequency_mhz']:.0f} MHz (estimate, {e['uncertainty'].split(' ')[0]})")
    ax.grid(axis="x", alpha=0.3)
    return save_figure(fig, path)


def _cell_in_tile(bel: str) -> int:
    """0..7 for a cell within its tile: iCE40 ``X1/Y2/lc5``, ECP5 ``X1/Y2/SLICEC.FF1``."""
    tail = bel.split("/")[-1]
    m = re.fullmatch(r"lc(\d)", tail) or re.fullmatch(r"SLICE([A-D])\.\D*(\d)", tail)
    if m is None:
        return 0
    return int(m.group(1)) if m.lastindex == 1 else 2 * "ABCD".index(m.group(1)) + int(m.group(2))


def placement_chart(report: dict, sites: dict, grids: list[tuple[int, int]],
                    positions: list, path: str | Path) -> Path:
    """The mesh on the die: every placed node at its logic tile, coloured by its grid
    column (left) and row (right), one marker per layer; neighbours on the grid should
    be neighbours on the die."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.6), sharey=True)
    markers = "os^Dv<>p"
    for k, (ax, label) in enumerate(zip(axes, ("grid column", "grid row"))):
        for i, grid in enumerate(grids):
            nodes = [n for (layer, n) in sites if layer == i]
            if not nodes:
                continue
            xy = [tuple(int(v[1:]) for v in sites[(i, n)]["bel"].split("/")[:2]) for n in nodes]
            lc = [_cell_in_tile(sites[(i, n)]["bel"]) for n in nodes]
            frac = [positions[i][n][1 - k] / max(1, grid[1 - k] - 1) for n in nodes]
            ax.scatter([x + 0.1 * (z % 4) for (x, _), z in zip(xy, lc)],
                       [y + 0.2 * (z // 4) for (_, y), z in zip(xy, lc)], c=frac, s=9,
                       cmap="viridis", marker=markers[i % len(markers)], vmin=0, vmax=1,
                       label=f"layer {i}")
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.set_title(f"coloured by {label}")
        ax.set_xlabel("tile x")
        ax.set_aspect("equal")
        ax.grid(alpha=0.2)
    axes[0].set_ylabel("tile y")
    if sites:
        axes[0].legend(frameon=False, fontsize=8)
    fig.suptitle(f"{report['target']}: {len(sites):,} nodes, {report['placement']} placement, "
                 f"seed {report['seed']}")
    return save_figure(fig, path)
