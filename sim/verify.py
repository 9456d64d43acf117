"""``verify``: the emitted RTL, on Verilator (or Icarus), against the golden model.

One call emits (or takes) the Verilog, compiles it once (cached by content),
streams the samples through every scenario of
:data:`~lutmesh.sim.scoreboard.SCENARIOS`, judges the handshakes, and records
switching activity in a separate full-rate run with SAIF tracing on. The result
is a JSON-ready dict, also written to ``verify.json``.

Scenarios with ``path="bulk"`` (by default ``full_rate``) run in the compiled
harness of :mod:`lutmesh.sim.bulk` on Verilator, together with ``bulk_samples``
extra random samples; the protocol scenarios (gaps, stalls, resets) stay on the
cocotb testbench. On Icarus every scenario runs on cocotb.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path

import numpy as np

from ..errors import ConfigError, NetlistError
from ..hdl.emit import load_rtl
from ..files import atomic_write_json, sha256_of
from ..bitsliced import predict_bitsliced, predict_planes, warm_up
from ..netlist import Netlist
from ..tools import package_version
from .activity import stage_activity
from .bulk import (BulkDesign, RandomPayloads, build_bulk, bulk_processes, check_sharded,
                   pack_words, splitmix_words, start_sharded, unpack_words)
from .scoreboard import SCENARIOS, Scenario, ScenarioRecord, check_scenario
from .verilator import build_simulator, run_testbench, simulator_version

__all__ = ["verify", "golden_job", "pack_payloads", "is_current"]


def _port_width(manifest: dict, name: str) -> int:
    for port in manifest["ports"]:
        if port["name"] == name:
            return int(port["width"])
    raise ConfigError(f"manifest: no port {name}")


def pack_payloads(features: list[dict], q) -> list[int]:
    """Quantised samples packed into input payloads at the manifest's feature fields."""
    return [sum(int(v) << int(f["lsb"]) for v, f in zip(row, features)) for row in q]


def golden_job(net: Netlist, X: np.ndarray, manifest: dict, scenarios, seed: int) -> dict:
    """What the testbench needs: payloads, golden classes, latency, scenarios."""
    q = net.quantize(X)
    expected = net.predict_quantized(q)
    width = sum(int(b) for b in net.quantizer.bits)
    if _port_width(manifest, "i__payload") != width:
        raise ConfigError(f"the RTL's input is {_port_width(manifest, 'i__payload')} bits wide, "
                          f"this model's features need {width}: RTL of another model")
    return {
        "payloads": [format(p, "x") for p in pack_payloads(manifest["features"], q)],
        "expected": [int(c) for c in expected],
        "latency": int(manifest["latency_cycles"]),
        "class_width": int(manifest["outputs"][0]["width"]),
        "scenarios": [dataclasses.asdict(s) for s in scenarios],
        "seed": int(seed),
    }


def _records(result: dict) -> list[tuple[ScenarioRecord, float]]:
    out = []
    for r in result["scenarios"]:
        rec = ScenarioRecord(r["name"], [tuple(a) for a in r["accepted"]],
                             [tuple(a) for a in r["produced"]], [tuple(a) for a in r["resets"]],
                             r["cycles"], r["valid_during_reset"], r["ready_during_reset"],
                             r["unknown_cycles"])
        out.append((rec, r["wall_seconds"]))
    return out


def _rtl_for(net: Netlist, out_dir: Path, rtl_dir, log) -> tuple[Path, dict, list[str]]:
    """The Verilog and manifest to check (emitted into ``out_dir/rtl`` when none is given)."""
    if rtl_dir is None:
        from ..hdl.emit import emit_verilog

        rtl_dir = out_dir / "rtl"
        log(f"emitting Verilog to {rtl_dir}")
        emit_verilog(net, rtl_dir)
    verilog, manifest = load_rtl(rtl_dir)
    notes = []
    actual = sha256_of(verilog)
    if manifest.get("verilog_sha256") not in (None, actual):
        notes.append(f"{verilog.name} was changed after it was emitted (its sha256 is not the "
                     "manifest's): checking the file as it is")
        log("note: " + notes[-1])
    manifest = dict(manifest, verilog_sha256=actual)
    if manifest.get("netlist_hash") != net.content_hash():
        notes.append(f"the RTL was emitted from netlist {str(manifest.get('netlist_hash'))[:16]}, "
                     f"not this model ({net.content_hash()[:16]})")
        log("note: " + notes[-1])
    return verilog, manifest, notes


def _run_scenarios(build, job: dict, scenarios, work: Path, vcd: Path | None):
    """Simulate every scenario once on the cocotb testbench; judge each with the
    scoreboard."""
    if not scenarios:
        return [], 0.0
    job = dict(job, scenarios=[dataclasses.asdict(s) for s in scenarios])
    job_path, result_path = work / "job.json", work / "result.json"
    job_path.write_text(json.dumps(job))
    sim_seconds = run_testbench(build, job_path, result_path, work, trace_file=vcd)
    checks = []
    for (rec, wall), scenario in zip(_records(json.loads(result_path.read_text())), scenarios):
        c = check_scenario(rec, job["expected"], job["latency"], scenario.full_rate)
        c["wall_seconds"] = round(wall, 4)
        c["cycles_per_second"] = round(rec.cycles / wall) if wall > 0 else None
        c["samples_per_second"] = round(c["checked"] / wall) if wall > 0 else None
        c["path"] = "cocotb"
        checks.append(c)
    return checks, sim_seconds


def _run_bulk(net: Netlist, X: np.ndarray, verilog: Path, manifest: dict, scenario: Scenario,
              extra: int, seed: int, work: Path, log) -> tuple[dict, float]:
    """The full-rate scenario in the compiled harness: ``X`` then ``extra`` random
    samples (every feature's full range), every class compared with the golden model.

    ``samples_per_second`` counts the whole step — packing, simulation, golden
    model and comparison — not only the simulator; like the build, the one-time load
    of the golden side's compiled kernels comes before it (``golden_setup_seconds``).
    The golden classes come from the bit-sliced evaluation (:mod:`lutmesh.bitsliced`,
    equal to ``net.predict_quantized`` and tested so), computed while the harness runs.
    """
    if not scenario.full_rate:
        raise ConfigError(f"scenario {scenario.name}: the bulk path drives full rate only "
                          "(no gaps, stalls or resets)")
    build = build_bulk([BulkDesign(verilog, manifest)], log=log)
    log(f"bulk harness {'reused from cache' if build.cached else 'built'}"
        f"{'' if build.cached else f' in {build.build_seconds:.1f} s'}")
    # the golden side's compiled kernels (model, random planes), loaded once per process
    t_setup = time.perf_counter()
    warm_up(net)
    splitmix_words(0, 0, 1)
    setup = time.perf_counter() - t_setup
    t0 = time.perf_counter()
    width = _port_width(manifest, "i__payload")
    # the samples' own payloads, then seeded random ones (every field uniform over its
    # codes) as bit planes: the harness computes them from the seed and transposes
    # them, the golden model computes the same planes while it runs and reads them as
    # they are
    features = manifest["features"]
    q = net.quantize(X)
    payloads = pack_words(q, features, width)
    random = RandomPayloads.draw(extra, width, seed)
    processes = bulk_processes(len(payloads) + extra)
    log(f"bulk: streaming {len(payloads) + extra} samples at full rate"
        f"{f' in {processes} harness processes' if processes > 1 else ''}")
    runs = start_sharded(build, payloads, work / "bulk", processes, random)
    # while the harness streams: every golden class
    fields = [(int(f["lsb"]), int(f["width"])) for f in features]
    expected = np.concatenate([predict_bitsliced(net, q),
                               predict_planes(net, fields, random.planes, extra)])
    check, sim_seconds = check_sharded(runs, expected, int(manifest["latency_cycles"]),
                                       scenario.name)
    wall = time.perf_counter() - t0
    if check["first_mismatch"]:
        i = check["first_mismatch"]["sample"]
        codes = q[i] if i < len(q) else unpack_words(
            random.words(i - len(q), i - len(q) + 1, payloads.shape[1]), features)[0]
        check["first_mismatch"]["quantized"] = [int(v) for v in codes]
    check.update(wall_seconds=round(wall, 4), simulator_seconds=round(sim_seconds, 4),
                 cycles_per_second=round(check["cycles"] / sim_seconds),
                 samples_per_second=round(check["checked"] / wall),
                 build_seconds=round(build.build_seconds, 2), build_cached=build.cached,
                 golden_setup_seconds=round(setup, 4))
    return check, sim_seconds


def _on_bulk(scenarios, simulator: str) -> list[Scenario]:
    return [s for s in scenarios if s.path == "bulk" and simulator == "verilator"]


def _cocotb_build(verilog: Path, manifest: dict, scenarios, simulator: str, waves: bool,
                  activity: bool, log):
    """The cocotb testbench's compiled model, or None when nothing runs on it."""
    if not (waves or activity) and len(_on_bulk(scenarios, simulator)) == len(scenarios):
        return None
    build = build_simulator(verilog, manifest["top"], simulator=simulator, log=log,
                            trace="vcd" if waves else ("saif" if activity else None))
    log(f"{simulator} model {'reused from cache' if build.cached else 'built'}"
        f"{'' if build.cached else f' in {build.build_seconds:.1f} s'}")
    return build


def _check_all(net, X, verilog, manifest, job, scenarios, simulator, build, work, vcd,
               bulk_samples, seed, log) -> tuple[list[dict], float]:
    """Every scenario on its path, the checks in the scenarios' order."""
    on_bulk = _on_bulk(scenarios, simulator)
    on_cocotb = [s for s in scenarios if s not in on_bulk]
    if bulk_samples and not on_bulk:
        raise ConfigError("extra bulk samples need a bulk scenario on Verilator")
    if on_cocotb:
        log(f"simulating {len(X)} samples x {len(on_cocotb)} scenarios on cocotb")
    checks, sim_seconds = _run_scenarios(build, job, on_cocotb, work, vcd)
    by_name = {c["scenario"]: c for c in checks}
    for s in on_bulk:
        by_name[s.name], seconds = _run_bulk(net, X, verilog, manifest, s, bulk_samples, seed,
                                             work, log)
        sim_seconds += seconds
    return [by_name[s.name] for s in scenarios], sim_seconds


def _record_activity(build, verilog: Path, manifest: dict, job: dict, scenarios, work: Path,
                     n_samples: int, log) -> dict:
    """A full-rate run with SAIF tracing: toggles per stage for the energy estimate."""
    full = tuple(s for s in scenarios if s.full_rate) or (Scenario("full_rate"),)
    if build.trace != "saif":
        build = build_simulator(verilog, manifest["top"], trace="saif", log=log)
    act_job_path = work / "activity_job.json"
    act_job_path.write_text(json.dumps(dict(job, scenarios=[dataclasses.asdict(full[0])])))
    saif = work / "activity.saif"
    log("recording switching activity (SAIF) at full rate")
    run_testbench(build, act_job_path, work / "activity_result.json", work, trace_file=saif)
    act = stage_activity(saif, verilog, manifest["top"], n_samples)
    act["netlist_hash"] = manifest.get("netlist_hash")
    act["verilog_sha256"] = manifest.get("verilog_sha256")
    return act


def _first_mismatch(checks: list[dict], net: Netlist, X: np.ndarray) -> dict | None:
    first = next((c["first_mismatch"] for c in checks if c["first_mismatch"]), None)
    if first is None:
        return None
    idx = first["sample"]
    if idx >= len(X):  # one of the bulk path's extra random samples: no raw features
        return dict(first, features=None)
    return dict(first, features=[float(v) for v in X[idx]],
                quantized=[int(v) for v in net.quantize(X[idx:idx + 1])[0]])


def _summary(checks: list[dict], net: Netlist, X: np.ndarray, manifest: dict, job: dict) -> dict:
    """The verdict and the figures over all scenarios."""
    cycles = sum(c["cycles"] for c in checks)
    scenario_wall = sum(c["wall_seconds"] for c in checks)
    full = next((c for c in checks if c["scenario"] == "full_rate"), None)
    return {
        "passed": all(c["passed"] for c in checks),
        "samples": len(X),
        "netlist_hash": net.content_hash(),
        "rtl_netlist_hash": manifest.get("netlist_hash"),
        "verilog_sha256": manifest.get("verilog_sha256"),
        "latency_cycles": job["latency"],
        "measured_latency_cycles": full["latency_min"] if full else None,
        "throughput_per_cycle": full["throughput_per_cycle"] if full else None,
        "mismatches": sum(c["mismatches"] for c in checks),
        "lost": sum(c["lost"] for c in checks),
        "duplicated": sum(c["duplicated"] for c in checks),
        "first_mismatch": _first_mismatch(checks, net, X),
        "scenarios": checks,
        "simulated_cycles": cycles,
        "simulated_cycles_per_second": round(cycles / scenario_wall) if scenario_wall else None,
    }


def verify(net: Netlist, X: np.ndarray, out_dir: str | Path, *, rtl_dir: str | Path | None = None,
           seed: int = 0, scenarios: tuple[Scenario, ...] = SCENARIOS, waves: bool = False,
           activity: bool = True, simulator: str = "verilator", bulk_samples: int = 0,
           log=print) -> dict:
    """Check the RTL against ``net.predict`` on samples ``X`` (raw features).

    Writes ``out_dir/verify.json`` (and ``activity.json``, ``waves.vcd``) and returns
    the same dict; ``result["passed"]`` is the verdict. ``simulator="icarus"`` runs
    the same cocotb testbench on Icarus Verilog (4-state); waves and activity are
    Verilator's (a ``ConfigError`` for waves, activity is left out).
    ``bulk_samples`` random samples are added to the bulk (full-rate) scenario.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != net.n_features or len(X) == 0:
        raise NetlistError(f"samples: expected shape (n >= 1, {net.n_features}), got {X.shape}")
    activity = activity and simulator == "verilator"
    verilog, manifest, notes = _rtl_for(net, out_dir, rtl_dir, log)
    job = golden_job(net, X, manifest, scenarios, seed)
    work = out_dir / "sim"
    work.mkdir(exist_ok=True)
    build = _cocotb_build(verilog, manifest, scenarios, simulator, waves, activity, log)
    t0 = time.perf_counter()
    vcd = out_dir / "waves.vcd"
    checks, sim_seconds = _check_all(net, X, verilog, manifest, job, scenarios, simulator, build,
                                     work, vcd if waves else None, bulk_samples, seed, log)
    files = {"verify": str(out_dir / "verify.json"), "rtl": str(verilog)}
    if waves:
        files["waves"] = str(vcd)
    result = _summary(checks, net, X, manifest, job)
    if activity:
        act = _record_activity(build, verilog, manifest, job, scenarios, work, len(X), log)
        atomic_write_json(out_dir / "activity.json", act)
        files["activity"] = str(out_dir / "activity.json")
        result["activity"] = {k: act[k] for k in ("toggles_per_inference", "cycles")}
    result.update(notes=notes, bulk_samples=bulk_samples, simulator_seconds=round(sim_seconds, 2),
                  build_seconds=round(build.build_seconds, 2) if build else 0.0,
                  build_cached=build.cached if build else None,
                  seed=seed, simulator=simulator, simulator_version=simulator_version(simulator),
                  verilator=package_version("verilator"),
                  cocotb=package_version("cocotb"), files=files,
                  wall_seconds=round(time.perf_counter() - t0, 2))
    atomic_write_json(out_dir / "verify.json", result)
    if not waves and vcd.exists():
        vcd.unlink()  # stale waves of an earlier run would mislead
    shutil.rmtree(work / "__pycache__", ignore_errors=True)
    return result


def is_current(out_dir: str | Path, net: Netlist, manifest: dict) -> bool:
    """Whether ``out_dir`` holds a passing verification of exactly this emitted Verilog."""
    try:
        ver = json.loads((Path(out_dir) / "verify.json").read_text())
    except (OSError, ValueError):
        return False
    return (ver.get("passed") is True and ver.get("netlist_hash") == net.content_hash()
            and ver.get("verilog_sha256") == manifest.get("verilog_sha256") is not None
            and (Path(out_dir) / "activity.json").exists())
