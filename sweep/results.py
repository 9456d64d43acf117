"""A sweep's results: one row per trial, the Pareto front, pictures and a page.

Rewritten (atomically) after every finished trial, so an interrupted sweep leaves
valid ``results.json`` behind and ``--resume`` knows exactly what already ran.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from pathlib import Path

from ..charts import pyplot, save_figure
from ..files import atomic_write_json, atomic_write_text

__all__ = ["COLUMNS", "pareto_keys", "write_results", "load_results", "progress_table"]

COLUMNS = ["trial", "status", "pareto", "accuracy", "validation_accuracy", "nodes", "target",
           "luts", "lut_unit", "ffs", "fmax_mhz", "latency_cycles", "latency_ns", "energy_pj",
           "wall_s", "retries", "node", "host", "error"]
# the pictures: accuracy against each cost, with the better direction of each
PANELS = [("luts", "min", "LUTs"), ("energy_pj", "min", "energy pJ / inference (estimate)"),
          ("fmax_mhz", "max", "Fmax MHz")]


def _value(row: dict, name: str) -> float | None:
    v = row.get(name)
    return float(v) if isinstance(v, (int, float)) and not (
        isinstance(v, float) and math.isnan(v)) else None


def pareto_keys(rows: list[dict], objectives: dict) -> set[str]:
    """Trials no other finished trial beats on every objective (ties kept)."""
    def signed(row):
        vals = [_value(row, n) for n in objectives]
        if row.get("status") != "ok" or None in vals:
            return None
        return [v if objectives[n] == "max" else -v for n, v in zip(objectives, vals)]

    scored = [(r["trial"], s) for r in rows if (s := signed(r)) is not None]
    front = set()
    for key, a in scored:
        if not any(all(y >= x for x, y in zip(a, b)) and any(y > x for x, y in zip(a, b))
                   for _, b in scored):
            front.add(key)
    return front


def load_results(out: Path) -> dict[str, dict]:
    """The rows of an earlier run of this sweep, by trial key (none if there was none)."""
    try:
        data = json.loads((Path(out) / "results.json").read_text())
        return {row["trial"]: row for row in data["trials"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _csv_text(rows: list[dict], space: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS[:3] + space + COLUMNS[3:])
    for row in rows:
        config = row.get("config", {})
        cells = [row.get(c) for c in COLUMNS[:3]] + [config.get(n) for n in space] + \
                [row.get(c) for c in COLUMNS[3:]]
        writer.writerow(["" if c is None else c for c in cells])
    return buf.getvalue()


def _pareto_png(rows: list[dict], path: Path) -> Path:
    """Accuracy against LUTs, energy and Fmax; each panel's own 2-D front joined."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.4 * len(PANELS), 3.6))
    fig.subplots_adjust(wspace=0.35)
    ok = [r for r in rows if r.get("status") == "ok"]
    for ax, (name, mode, label) in zip(axes, PANELS):
        pts = [(_value(r, name), _value(r, "accuracy"), r["trial"]) for r in ok]
        pts = [p for p in pts if None not in p[:2]]
        ax.set_xlabel(label)
        ax.set_ylabel("test accuracy")
        if not pts:
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
            continue
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], color="0.6", s=18)
        keys = pareto_keys([{"trial": k, "status": "ok", name: x, "accuracy": y}
                            for x, y, k in pts], {"accuracy": "max", name: mode})
        front = sorted((p for p in pts if p[2] in keys), key=lambda p: p[0])
        ax.plot([p[0] for p in front], [p[1] for p in front], "o-", color="C3", ms=5)
        ax.grid(alpha=0.3)
    fig.suptitle("sweep: Pareto fronts (red) of accuracy against cost")
    return save_figure(fig, path)


def _html(rows: list[dict], space: list[str], png: Path, spec_text: str) -> str:
    cols = COLUMNS[:3] + space + COLUMNS[3:-3] + ["error"]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for row in rows:
        config = row.get("config", {})
        cells = [config.get(c) if c in space else row.get(c) for c in cols]
        style = ' style="background:#fde"' if row.get("pareto") else ""
        body.append(f"<tr{style}>" + "".join(
            f"<td>{html.escape('' if c is None else str(c))}</td>" for c in cells) + "</tr>")
    img = base64.b64encode(png.read_bytes()).decode()
    return ("<!doctype html><meta charset=utf-8><title>lutmesh sweep</title>"
            "<style>body{font-family:sans-serif}td,th{padding:2px 8px;border-bottom:1px solid"
            " #ddd;font-size:13px}</style><h1>lutmesh sweep</h1>"
            f"<p>{len(rows)} trials; Pareto-optimal rows are shaded.</p>"
            f"<img alt='Pareto fronts' src='data:image/png;base64,{img}'>"
            f"<table><tr>{head}</tr>{''.join(body)}</table>"
            f"<h2>sweep file</h2><pre>{html.escape(spec_text)}</pre>\n")


def write_results(out: Path, spec, rows: list[dict]) -> None:
    """results.json, results.csv, pareto.png and sweep.html for ``rows``."""
    out = Path(out)
    front = pareto_keys(rows, spec.objectives)
    for row in rows:
        row["pareto"] = row["trial"] in front
    space = list(spec.space)
    atomic_write_json(out / "results.json", {
        "sweep": str(spec.path), "method": spec.method, "objectives": spec.objectives,
        "trials": rows})
    atomic_write_text(out / "results.csv", _csv_text(rows, space))
    png = _pareto_png(rows, out / "pareto.png")
    atomic_write_text(out / "sweep.html", _html(rows, space, png, spec.path.read_text()))


def _cell(row: dict, name: str) -> str:
    v = row.get(name)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if name in ("accuracy", "validation_accuracy", "val"):
        return f"{100 * v:.1f}%"
    return f"{v:.1f}" if isinstance(v, float) else str(v)


def progress_table(rows: list[dict]) -> str:
    """The live table: one line per trial, as it stands."""
    cols = [("trial", 34), ("status", 9), ("epoch", 6), ("val", 7), ("accuracy", 9),
            ("nodes", 6), ("luts", 6), ("fmax_mhz", 9), ("energy_pj", 10), ("wall_s", 7)]
    lines = ["".join(f"{name:<{w}}" for name, w in cols)]
    for row in rows:
        lines.append("".join(f"{_cell(row, name)[:w - 1]:<{w}}" for name, w in cols))
    return "\n".join(lines)
