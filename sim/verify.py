"""``verify``: the emitted RTL, on Verilator, against the golden model.

One call emits (or takes) the Verilog, compiles it once (cached by content),
streams the samples through every scenario of
:data:`~lutmesh.sim.scoreboard.SCENARIOS`, judges the handshakes, and records
switching activity in a separate full-rate run with SAIF tracing on. The result
is a JSON-ready dict, also written to ``verify.json``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path

import numpy as np

from ..errors import ConfigError, NetlistError
from ..files import atomic_write_text
from ..netlist import Netlist
from ..tools import package_version
from .scoreboard import SCENARIOS, Scenario, ScenarioRecord, check_scenario

__all__ = ["verify", "load_rtl", "golden_job"]


def load_rtl(rtl_dir: str | Path) -> tuple[Path, dict]:
    """The Verilog file and manifest written by ``lutmesh emit``."""
    rtl_dir = Path(rtl_dir)
    manifest_path = rtl_dir / "manifest.json"
    if not manifest_path.is_file():
        raise ConfigError(f"--rtl {rtl_dir}: no manifest.json (write it with `lutmesh emit`)")
    try:
        manifest = json.loads(manifest_path.read_text())
        verilog = rtl_dir / manifest["file"]
        manifest["top"], manifest["latency_cycles"], manifest["ports"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{manifest_path}: not a lutmesh manifest ({exc})") from None
    if not verilog.is_file():
        raise ConfigError(f"{manifest_path}: names {verilog.name}, which is missing")
    return verilog, manifest


def _port_width(manifest: dict, name: str) -> int:
    for port in manifest["ports"]:
        if port["name"] == name:
            return int(port["width"])
    raise ConfigError(f"manifest: no port {name}")


def golden_job(net: Netlist, X: np.ndarray, manifest: dict, scenarios, seed: int) -> dict:
    """What the testbench needs: payloads, golden classes, latency, scenarios."""
    from ..hdl.emit import pack_features

    q = net.quantize(X)
    expected = net.predict_quantized(q)
    width = sum(int(b) for b in net.quantizer.bits)
    if _port_width(manifest, "i__payload") != width:
        raise ConfigError(f"the RTL's input is {_port_width(manifest, 'i__payload')} bits wide, "
                          f"this model's features need {width}: RTL of another model")
    return {
        "payloads": [format(p, "x") for p in pack_features(net, q)],
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
                             r["cycles"], r["valid_during_reset"])
        out.append((rec, r["wall_seconds"]))
    return out


def verify(net: Netlist, X: np.ndarray, out_dir: str | Path, *, rtl_dir: str | Path | None = None,
           seed: int = 0, scenarios: tuple[Scenario, ...] = SCENARIOS, waves: bool = False,
           activity: bool = True, log=print) -> dict:
    """Check the RTL against ``net.predict`` on samples ``X`` (raw features).

    Writes ``out_dir/verify.json`` (and ``activity.json``, ``waves.vcd``) and returns
    the same dict; ``result["passed"]`` is the verdict.
    """
    from ..hdl.emit import emit_verilog
    from .activity import stage_activity
    from .verilator import build_simulator, run_testbench

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != net.n_features or len(X) == 0:
        raise NetlistError(f"samples: expected shape (n >= 1, {net.n_features}), got {X.shape}")
    if rtl_dir is None:
        rtl_dir = out_dir / "rtl"
        log(f"emitting Verilog to {rtl_dir}")
        emit_verilog(net, rtl_dir)
    verilog, manifest = load_rtl(rtl_dir)
    notes = []
    if manifest.get("netlist_hash") != net.content_hash():
        notes.append(f"the RTL was emitted from netlist {str(manifest.get('netlist_hash'))[:16]}, "
                     f"not this model ({net.content_hash()[:16]})")
        log("note: " + notes[-1])
    job = golden_job(net, X, manifest, scenarios, seed)
    work = out_dir / "sim"
    work.mkdir(exist_ok=True)
    job_path = work / "job.json"
    job_path.write_text(json.dumps(job))

    top = manifest["top"]
    trace = "vcd" if waves else ("saif" if activity else None)
    build = build_simulator(verilog, top, trace=trace, log=log)
    log(f"Verilator model {'reused from cache' if build.cached else 'built'}"
        f"{'' if build.cached else f' in {build.build_seconds:.1f} s'}")
    t0 = time.perf_counter()
    result_path = work / "result.json"
    vcd = out_dir / "waves.vcd"
    log(f"simulating {len(X)} samples x {len(scenarios)} scenarios")
    sim_seconds = run_testbench(build, job_path, result_path, work,
                                trace_file=vcd if waves else None)
    raw = json.loads(result_path.read_text())
    checks = []
    for (rec, wall), scenario in zip(_records(raw), scenarios):
        c = check_scenario(rec, job["expected"], job["latency"], scenario.full_rate)
        c["wall_seconds"] = round(wall, 4)
        c["cycles_per_second"] = round(rec.cycles / wall) if wall > 0 else None
        checks.append(c)

    act = None
    files = {"verify": str(out_dir / "verify.json"), "rtl": str(verilog)}
    if waves:
        files["waves"] = str(vcd)
    if activity:
        full = tuple(s for s in scenarios if s.full_rate) or (Scenario("full_rate"),)
        act_build = build if trace == "saif" else build_simulator(verilog, top, trace="saif",
                                                                  log=log)
        act_job = dict(job, scenarios=[dataclasses.asdict(full[0])])
        act_job_path = work / "activity_job.json"
        act_job_path.write_text(json.dumps(act_job))
        saif = work / "activity.saif"
        log("recording switching activity (SAIF) at full rate")
        run_testbench(act_build, act_job_path, work / "activity_result.json", work,
                      trace_file=saif)
        act = stage_activity(saif, verilog, top, len(X))
        act["netlist_hash"] = manifest.get("netlist_hash")
        atomic_write_text(out_dir / "activity.json", json.dumps(act, indent=2) + "\n")
        files["activity"] = str(out_dir / "activity.json")

    first = next((c["first_mismatch"] for c in checks if c["first_mismatch"]), None)
    if first is not None:
        idx = first["sample"]
        first = dict(first, features=[float(v) for v in X[idx]],
                     quantized=[int(v) for v in net.quantize(X[idx:idx + 1])[0]])
    cycles = sum(c["cycles"] for c in checks)
    scenario_wall = sum(c["wall_seconds"] for c in checks)
    full = next((c for c in checks if c["scenario"] == "full_rate"), None)
    result = {
        "passed": all(c["passed"] for c in checks),
        "samples": len(X),
        "netlist_hash": net.content_hash(),
        "rtl_netlist_hash": manifest.get("netlist_hash"),
        "notes": notes,
        "latency_cycles": job["latency"],
        "measured_latency_cycles": full["latency_min"] if full else None,
        "throughput_per_cycle": full["throughput_per_cycle"] if full else None,
        "mismatches": sum(c["mismatches"] for c in checks),
        "lost": sum(c["lost"] for c in checks),
        "duplicated": sum(c["duplicated"] for c in checks),
        "first_mismatch": first,
        "scenarios": checks,
        "simulated_cycles": cycles,
        "simulated_cycles_per_second": round(cycles / scenario_wall) if scenario_wall else None,
        "simulator_seconds": round(sim_seconds, 2),
        "build_seconds": round(build.build_seconds, 2),
        "build_cached": build.cached,
        "seed": seed,
        "verilator": package_version("verilator"),
        "cocotb": package_version("cocotb"),
        "files": files,
        "wall_seconds": round(time.perf_counter() - t0, 2),
    }
    if act is not None:
        result["activity"] = {k: act[k] for k in ("toggles_per_inference", "cycles")}
    atomic_write_text(out_dir / "verify.json", json.dumps(result, indent=2) + "\n")
    if not waves and vcd.exists():
        vcd.unlink()  # stale waves of an earlier run would mislead
    shutil.rmtree(work / "__pycache__", ignore_errors=True)
    return result

