"""A sweep file (TOML): the base flow, the search space and how to search it.

Read and checked here, before Ray starts, so that a typo costs a second rather than
a cluster's worth of failed trials. Nothing here imports Ray: grid and random trials
are planned in this process (seeded), which is what lets ``--resume`` know which of
them already ran.

::

    [base]                      # any `lutmesh train` option, plus the flow's own
    dataset = "iris"
    targets = ["ice40-up5k"]
    [space]
    lut_inputs = [3, 4]                              # grid values
    radius = ["1", "global"]
    learning_rate = {min = 0.01, max = 0.1, log = true}   # a range
    thermometer_bits = {choice = [2, 4, 8]}          # a choice
    [search]
    method = "grid"             # grid | random | tpe
    num_samples = 1             # grid: repeats; random, tpe: trials
    objectives = {accuracy = "max", luts = "min"}
    [scheduler]                 # optional: stop weak trials early
    type = "asha"
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..files import read_toml

__all__ = ["SweepSpec", "load_sweep", "plan_trials", "trial_key", "OBJECTIVES"]

# what a trial measures that a sweep may optimise (a results.csv column each)
OBJECTIVES = ("accuracy", "validation_accuracy", "nodes", "luts", "ffs", "fmax_mhz",
              "latency_ns", "energy_pj", "wall_s")
METHODS = ("grid", "random", "tpe")
# [base] keys that are the flow's, not training options
FLOW_KEYS = {"dataset": "dataset", "data_dir": "data_dir", "targets": "target",
             "freq": "freq", "config": "config", "until": "until"}


@dataclass
class SweepSpec:
    """One sweep, validated: what every trial shares and what varies."""

    path: Path
    flow: dict                       # flow_args values: dataset, target, freq, ...
    until: str                       # last flow stage of each trial
    base: dict                       # training options shared by every trial
    space: dict                      # name -> ("grid", [v]) | ("choice", [v]) | ("range", {...})
    method: str = "grid"
    num_samples: int = 1
    seed: int = 0
    objectives: dict = field(default_factory=lambda: {"accuracy": "max", "luts": "min"})
    max_concurrent: int | None = None
    scheduler: dict | None = None


def _table(data: dict, name: str) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table")
    return value


def _param(name: str, value):
    """One [space] entry as ("grid", values), ("choice", values) or ("range", bounds)."""
    if isinstance(value, list):
        kind, spec = "grid", value
    elif isinstance(value, dict) and set(value) == {"choice"}:
        kind, spec = "choice", value["choice"]
    elif isinstance(value, dict) and {"min", "max"} <= set(value) <= {"min", "max", "log",
                                                                       "step"}:
        lo, hi = value["min"], value["max"]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi)):
            raise ConfigError(f"space.{name}: min and max must be numbers")
        if not lo < hi or (value.get("log") and lo <= 0):
            raise ConfigError(f"space.{name}: expected 0 < min < max for a log range, "
                              f"min < max otherwise (got {lo}, {hi})")
        integer = isinstance(lo, int) and isinstance(hi, int)
        return name, ("range", {"min": lo, "max": hi, "log": bool(value.get("log")),
                                "step": value.get("step"), "integer": integer})
    else:
        raise ConfigError(f"space.{name} = {value!r}: expected a list of values, "
                          "{choice = [...]} or {min = .., max = .. [, log, step]}")
    if not spec:
        raise ConfigError(f"space.{name}: no values")
    return name, (kind, list(spec))


def _search(data: dict) -> dict:
    search = dict(_table(data, "search"))
    unknown = set(search) - {"method", "num_samples", "seed", "objectives", "max_concurrent"}
    if unknown:
        raise ConfigError(f"[search]: unknown key(s) {', '.join(sorted(unknown))}")
    if search.get("method", "grid") not in METHODS:
        raise ConfigError(f"search.method = {search['method']!r}: expected one of "
                          f"{', '.join(METHODS)}")
    objectives = search.get("objectives", {"accuracy": "max", "luts": "min"})
    if not isinstance(objectives, dict) or not objectives:
        raise ConfigError("search.objectives: expected a table like {accuracy = \"max\"}")
    for name, mode in objectives.items():
        if name not in OBJECTIVES or mode not in ("max", "min"):
            raise ConfigError(f"search.objectives.{name} = {mode!r}: objectives are "
                              f"{', '.join(OBJECTIVES)}, each \"max\" or \"min\"")
    for key in ("num_samples", "max_concurrent"):
        if key in search and (not isinstance(search[key], int) or search[key] < 1):
            raise ConfigError(f"search.{key} = {search[key]!r}: expected an integer >= 1")
    return search


def _scheduler(data: dict) -> dict | None:
    if "scheduler" not in data:
        return None
    sched = dict(_table(data, "scheduler"))
    if sched.get("type", "asha") != "asha":
        raise ConfigError(f"scheduler.type = {sched['type']!r}: only \"asha\" is supported")
    unknown = set(sched) - {"type", "grace_period", "reduction_factor"}
    if unknown:
        raise ConfigError(f"[scheduler]: unknown key(s) {', '.join(sorted(unknown))}")
    return {"grace_period": int(sched.get("grace_period", 2)),
            "reduction_factor": float(sched.get("reduction_factor", 2))}


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file; every mistake is one ConfigError line."""
    path = Path(path)
    data = read_toml(path)
    unknown = set(data) - {"base", "space", "search", "scheduler"}
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(sorted(unknown))} "
                          "(expected base, space, search, scheduler)")
    base = {k.replace("-", "_"): v for k, v in _table(data, "base").items()}
    flow = {FLOW_KEYS[k]: base.pop(k) for k in list(base) if k in FLOW_KEYS}
    until = flow.pop("until", "report")
    if isinstance(flow.get("target"), list):
        flow["target"] = ",".join(flow["target"])
    for key in ("config", "data_dir"):
        if key in flow:
            flow[key] = (path.parent / flow[key]).resolve()
    space = dict(_param(k.replace("-", "_"), v) for k, v in _table(data, "space").items())
    if not space:
        raise ConfigError(f"{path}: [space] is empty: nothing to sweep")
    search = _search(data)
    return SweepSpec(path=path, flow=flow, until=until, base=base, space=space,
                     method=search.get("method", "grid"),
                     num_samples=search.get("num_samples", 1 if search.get(
                         "method", "grid") == "grid" else 8),
                     seed=int(search.get("seed", 0)),
                     objectives=search.get("objectives", {"accuracy": "max", "luts": "min"}),
                     max_concurrent=search.get("max_concurrent"),
                     scheduler=_scheduler(data))


def sample_range(bounds: dict, rng: np.random.Generator):
    """One value of a range: uniform, or uniform in log space; integers inclusive."""
    lo, hi = bounds["min"], bounds["max"]
    x = float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) if bounds["log"] else \
        float(rng.uniform(lo, hi))
    if bounds["step"]:
        x = lo + round((x - lo) / bounds["step"]) * bounds["step"]
    return int(round(x)) if bounds["integer"] else round(x, 6)


def plan_trials(spec: SweepSpec) -> list[dict]:
    """Grid and random sweeps: every trial's values, in order, the same on every run.

    Grid: the product of the list values, ``num_samples`` times, with choices and
    ranges sampled for each. Random: ``num_samples`` draws, lists counting as choices.
    TPE is planned by Optuna as results come in, so it has no plan (empty list).
    """
    if spec.method == "tpe":
        return []
    rng = np.random.default_rng(spec.seed)
    grid_names = [n for n, (kind, _) in spec.space.items()
                  if kind == "grid" and spec.method == "grid"]
    grid = list(itertools.product(*(spec.space[n][1] for n in grid_names)))
    plan = []
    for _ in range(spec.num_samples):
        for point in grid:
            values = dict(zip(grid_names, point))
            for name, (kind, arg) in spec.space.items():
                if name in values:
                    continue
                values[name] = (sample_range(arg, rng) if kind == "range"
                                else arg[int(rng.integers(len(arg)))])
            plan.append({n: values[n] for n in spec.space})
    unique = {trial_key(v): v for v in plan}  # a repeated draw is the same trial
    return list(unique.values())


def trial_key(values: dict) -> str:
    """A readable, stable folder name for a trial's values (a hash keeps it unique)."""
    text = json.dumps(values, sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    short = {"lut_inputs": "k", "radius": "r", "layers": "l", "thermometer_bits": "t",
             "learning_rate": "lr", "epochs": "e", "seed": "s"}
    slug = "_".join(f"{short.get(k, k)}{v}" for k, v in values.items())
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", slug)[:48]
    return f"{slug}-{digest}"
