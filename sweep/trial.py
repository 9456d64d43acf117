"""One trial: the flow's stages in the trial's own folder, measured as one row.

A trial is exactly a ``lutmesh flow`` with some training options changed, run
through ``lutmesh.flow``'s public functions, so it reuses any stage whose inputs
are unchanged (a re-run trial, or one that was killed after training, starts where
it stopped). Any exception is the trial's own: it becomes the row's ``error`` and
the sweep goes on.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import time
from pathlib import Path

from ..files import atomic_write_json, atomic_write_text
from ..flow import flow_args, run_stages
from .spec import OBJECTIVES, trial_key

__all__ = ["run_trial", "measurements", "tune_trial"]


def _first_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0][:300]


def measurements(done: dict) -> dict:
    """The row's figures from what ``run_stages`` returned (first target in the columns)."""
    metrics, acc = done["metrics"], done["metrics"]["accuracy"]
    row = {"accuracy": acc["test"], "validation_accuracy": acc.get("validation"),
           "nodes": done["netlist"].n_nodes, "epochs_run": metrics.get("epochs_run")}
    if done["manifest"]:
        row["latency_cycles"] = done["manifest"]["latency_cycles"]
    if done["verify"] is not None:
        row["verified"] = bool(done["verify"]["passed"])
    reports = {}
    for rep in done["reports"]:
        reports[rep["target"]] = {
            "luts": rep["luts"], "lut_unit": rep["lut_unit"], "ffs": rep["ffs"],
            "fmax_mhz": rep["fmax_mhz"], "latency_ns": rep["latency_ns"],
            "energy_pj": rep["energy_pj_per_inference"]["total"]}
    if reports:
        first = next(iter(reports))
        row.update(target=first, **reports[first])
    row["reports"] = reports
    return row


def run_trial(flow: dict, until: str, options: dict, trial_dir: Path, *,
              on_epoch=None) -> dict:
    """Run the flow for one trial's training ``options``; return its row (never raises
    for the trial's own failures). The flow's progress goes to ``trial_dir/flow.log``."""
    t0 = time.perf_counter()
    trial_dir = Path(trial_dir).resolve()
    trial_dir.mkdir(parents=True, exist_ok=True)
    row = {"trial": trial_dir.name, "status": "ok", "error": ""}
    try:
        with open(trial_dir / "flow.log", "a") as fh, contextlib.redirect_stdout(fh):
            done = run_stages(flow_args(out=trial_dir, **flow),
                              {**options, "progress": False}, until=until, on_epoch=on_epoch)
        row.update(measurements(done))
        if row.get("verified") is False:
            row.update(status="failed", error="verify: the RTL does not match the golden "
                                              "model (see verify/verify.json)")
    except Exception as exc:  # noqa: BLE001 - the trial's failure, recorded, not ours
        row.update(status="failed", error=_first_line(exc))
    row["wall_s"] = round(time.perf_counter() - t0, 2)
    atomic_write_json(trial_dir / "trial.json", row)
    return row


def _as_metric(value) -> float:
    """A float, or NaN where nothing was measured: Ray Tune and Optuna need a number."""
    return float(value) if isinstance(value, (int, float)) else math.nan


def _numbers(row: dict) -> dict:
    """Every objective as a float (NaN where not measured), which Ray Tune and Optuna
    need in each result."""
    return {name: _as_metric(row.get(name)) for name in OBJECTIVES}


def tune_trial(config: dict, context: dict) -> None:
    """Ray Tune's function trainable: report each epoch (for ASHA), then the row.

    ``config`` is ``{"trial": key}`` for a planned (grid, random) sweep, or the
    trial's values themselves when Optuna chose them.
    """
    import ray
    from ray import tune

    values = context["plan"][config["trial"]] if "trial" in config else dict(config)
    key = trial_key(values)
    trial_dir = Path(context["out"]) / "trials" / key
    trial_dir.mkdir(parents=True, exist_ok=True)
    # who is running it: the kill test and a person watching `ps` look here
    atomic_write_text(trial_dir / "worker.pid", f"{os.getpid()}\n")
    blank = _numbers({})

    def on_epoch(record: dict) -> None:
        tune.report({**blank, "key": key, "final": False, "epoch": record["epoch"],
                     "val_hard_accuracy": _as_metric(record["val_hard_accuracy"])})

    row = run_trial(context["flow"], context["until"], {**context["base"], **values},
                    trial_dir, on_epoch=on_epoch)
    row.update(config=values, node=ray.get_runtime_context().get_node_id(),
               host=socket.gethostname(), pid=os.getpid())
    atomic_write_json(trial_dir / "trial.json", row)
    tune.report({**_numbers(row), "key": key, "final": True,
                 "row_json": json.dumps(row, default=str),
                 "val_hard_accuracy": _as_metric(row.get("validation_accuracy"))})
