"""Report charts (matplotlib, headless): resources by stage, energy breakdown."""

from __future__ import annotations

from pathlib import Path

from ..charts import pyplot, save_figure

__all__ = ["resources_chart", "energy_chart"]


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
    parts = dict(e["dynamic_by_stage"])
    parts["clock"] = e["clock"]
    parts["static"] = e["static"]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    names = list(parts)
    ax.barh(names, [parts[n] for n in names], color=["C0"] * (len(names) - 2) + ["C1", "C2"])
    ax.invert_yaxis()
    ax.set_xlabel("pJ per inference (estimate)")
    ax.set_title(f"{report['target']}: {e['total']:.1f} pJ/inference at "
                 f"{e['frequency_mhz']:.0f} MHz (estimate, {e['uncertainty'].split(' ')[0]})")
    ax.grid(axis="x", alpha=0.3)
    return save_figure(fig, path)
