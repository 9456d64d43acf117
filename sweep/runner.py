"""Running a sweep's trials on Ray Tune: embedded here, or on an existing cluster.

Ray Tune schedules the trials (one CPU each), retries a trial whose worker died,
searches with Optuna's TPE when asked, and stops weak trials early with ASHA from
the trainer's per-epoch validation accuracy. This module is the only one that
imports Ray, and only ``lutmesh sweep`` imports it.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # Tune's banners off: we print our own table
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
import ray  # noqa: E402
from ray import tune  # noqa: E402

from ..errors import ConfigError
from ..files import atomic_write_text
from ..flow import flow_args, plan_flow
from .results import load_results, progress_table, write_results
from .spec import SweepSpec, plan_trials, trial_key
from .trial import tune_trial

__all__ = ["run_sweep_spec"]

FINISHED = ("ok", "stopped")  # what --resume keeps; a failed trial runs again


class _Recorder(tune.Callback):
    """Turns Tune's trial events into rows, the live table and the result files."""

    def __init__(self, out: Path, spec: SweepSpec, rows: dict, order: list[str], log):
        self.out, self.spec, self.rows, self.order, self.log = out, spec, rows, order, log
        self.plan: dict = {}

    def _row(self, trial) -> dict:
        key = trial.config.get("trial") or trial_key(dict(trial.config))
        if key not in self.order:
            self.order.append(key)
        values = self.plan.get(key, dict(trial.config))
        return self.rows.setdefault(key, {"trial": key, "status": "pending", "config": values})

    def _show(self) -> None:
        rows = [self.rows[k] for k in self.order if k in self.rows]
        table = progress_table(rows)
        atomic_write_text(self.out / "progress.txt", table + "\n")
        self.log(table)

    def on_trial_start(self, iteration, trials, trial, **info):
        row = self._row(trial)
        row.update(status="running")
        self.log(f"  started {row['trial']}")

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if not result.get("final"):
            self._row(trial).update(epoch=result.get("epoch"),
                                    val=result.get("val_hard_accuracy"))

    def on_trial_complete(self, iteration, trials, trial, **info):
        import json

        row, last = self._row(trial), trial.last_result or {}
        if last.get("final"):
            row.update(json.loads(last["row_json"]))
        else:  # ASHA stopped it after some epoch: a finished trial, with no hardware
            row.update(status="stopped", accuracy=None)
        row["retries"] = trial.num_failures
        self._save()

    def on_trial_error(self, iteration, trials, trial, **info):
        row = self._row(trial)
        row.update(status="failed", retries=trial.num_failures,
                   error=_error_line(trial) or "the trial's worker died")
        self._save()

    def _save(self) -> None:
        write_results(self.out, self.spec, [self.rows[k] for k in self.order])
        self._show()


def _error_line(trial) -> str:
    path = getattr(trial, "error_file", None)
    try:
        lines = [ln for ln in Path(path).read_text().splitlines() if ln.strip()]
    except (OSError, TypeError):
        return ""
    return lines[-1][:300] if lines else ""


def _distribution(kind: str, arg):
    """A [space] entry as a Ray Tune distribution, for Optuna's TPE."""
    if kind in ("grid", "choice"):
        return tune.choice(arg)
    lo, hi, step = arg["min"], arg["max"], arg["step"]
    if arg["integer"]:
        if arg["log"]:
            return tune.lograndint(lo, hi + 1)
        return tune.qrandint(lo, hi, step) if step else tune.randint(lo, hi + 1)
    if arg["log"]:
        return tune.qloguniform(lo, hi, step) if step else tune.loguniform(lo, hi)
    return tune.quniform(lo, hi, step) if step else tune.uniform(lo, hi)


def _tune_config(spec: SweepSpec, n_trials: int, max_concurrent: int | None):
    """Search (grid/random: our plan; tpe: Optuna) and the optional ASHA scheduler."""
    search = None
    if spec.method == "tpe":
        from ray.tune.search.optuna import OptunaSearch

        search = OptunaSearch(metric=list(spec.objectives), mode=list(spec.objectives.values()),
                              seed=spec.seed)
    scheduler = None
    if spec.scheduler:
        from ray.tune.schedulers import ASHAScheduler

        kind, arg = spec.space.get("epochs", ("grid", []))
        base_epochs = plan_flow(flow_args(**spec.flow), spec.base)[0].epochs  # --config too
        epochs = [base_epochs] + ([arg["max"]] if kind == "range" else arg)
        scheduler = ASHAScheduler(metric="val_hard_accuracy", mode="max",
                                  max_t=int(max(epochs)) + 1,  # + the final report
                                  grace_period=spec.scheduler["grace_period"],
                                  reduction_factor=spec.scheduler["reduction_factor"])
    return tune.TuneConfig(search_alg=search, scheduler=scheduler,
                           num_samples=n_trials if spec.method == "tpe" else 1,
                           max_concurrent_trials=max_concurrent or spec.max_concurrent)


def _start_ray(address: str | None) -> None:
    # A trial ASHA stopped has no objectives (NaN); Optuna refuses to record NaN and
    # Ray warns once per such trial. Expected, so not worth a line on the screen.
    logging.getLogger("ray.tune.search.optuna.optuna_search").setLevel(logging.ERROR)
    kwargs = {"log_to_driver": False, "logging_level": logging.WARNING}
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(include_dashboard=False, **kwargs)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        where = f"the Ray cluster at {address}" if address else "Ray on this machine"
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        hint = ("; set RAY_AUTH_MODE=token as for the cluster's nodes"
                if "auth" in str(exc).lower() and address else "")
        raise ConfigError(f"could not start or join {where}: {first}{hint}") from None


def _check(spec: SweepSpec, plan: list[dict]) -> None:
    """Every planned trial's options resolve (TPE: the space's ends) before Ray starts,
    and hold data out for the scheduler to watch, if there is one."""
    checks = plan or [{n: (a["min"] if k == "range" else a[0]) for n, (k, a) in spec.space.items()},
                      {n: (a["max"] if k == "range" else a[-1]) for n, (k, a) in spec.space.items()}]
    for values in checks:
        try:
            config = plan_flow(flow_args(**spec.flow), {**spec.base, **values})[0]
            if spec.scheduler and config.validation_fraction <= 0:
                raise ConfigError("[scheduler] stops trials on the validation accuracy, and "
                                  "this trial holds no data out (validation_fraction = 0, the "
                                  "digits default): set validation_fraction in [base]")
        except ConfigError as exc:
            raise ConfigError(f"{spec.path}: trial {values}: {exc}") from None


def run_sweep_spec(spec: SweepSpec, out: Path, *, address: str | None = None,
                   resume: bool = False, max_concurrent: int | None = None, log=print) -> dict:
    """Run what is left of ``spec`` into ``out``; return counts and the wall time."""
    t0 = time.perf_counter()
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    kept = {k: r for k, r in load_results(out).items() if r.get("status") in FINISHED} \
        if resume else {}
    plan = [v for v in plan_trials(spec) if trial_key(v) not in kept]
    n_new = len(plan) if spec.method != "tpe" else max(0, spec.num_samples - len(kept))
    _check(spec, plan)
    rows, order = dict(kept), list(kept)
    log(f"sweep {spec.path}: {len(kept)} trials kept, {n_new} to run ({spec.method})")
    if n_new:
        _start_ray(address)
        try:
            _run_tuner(spec, out, plan, n_new, max_concurrent, _Recorder(out, spec, rows, order,
                                                                          log))
        finally:
            ray.shutdown()
    write_results(out, spec, [rows[k] for k in order])
    counts = {s: sum(r.get("status") == s for r in rows.values())
              for s in ("ok", "stopped", "failed")}
    return {"ran": n_new, "kept": len(kept), **counts,
            "wall_s": round(time.perf_counter() - t0, 1)}


def _run_tuner(spec, out: Path, plan, n_new: int, max_concurrent, recorder) -> None:
    context = {"out": str(out), "flow": spec.flow, "until": spec.until, "base": spec.base,
               "plan": {trial_key(v): v for v in plan}}
    if spec.method == "tpe":
        space = {n: _distribution(k, a) for n, (k, a) in spec.space.items()}
    else:
        space = {"trial": tune.grid_search(list(context["plan"]))}
    recorder.plan = context["plan"]
    storage = out / ".tune"
    shutil.rmtree(storage, ignore_errors=True)  # results.json is the record, not Tune's
    tuner = tune.Tuner(
        tune.with_resources(tune.with_parameters(tune_trial, context=context), {"cpu": 1}),
        param_space=space, tune_config=_tune_config(spec, n_new, max_concurrent),
        run_config=tune.RunConfig(name="sweep", storage_path=str(storage), verbose=0,
                                  failure_config=tune.FailureConfig(max_failures=1),
                                  callbacks=[recorder]))
    tuner.fit()
