"""Energy per inference: an *estimate* from simulated switching activity.

Model (one inference per clock cycle at frequency ``f``, the core's throughput)::

    E_dynamic = sum over stages of  cells(stage) * toggle_rate(stage) * e_toggle
    E_clock   = e_clock_base + flip_flops * e_ff
    E_static  = P_static / f

``toggle_rate(stage)`` is measured: the mean toggles per signal bit per cycle of
that stage's named signals in Verilator's SAIF for a full-rate run of the verified
samples (see :mod:`lutmesh.sim.activity`). It is applied to the stage's mapped
logic cells (LUTs and carries from Yosys), i.e. we assume a LUT toggles as often as
the registered signals of its stage. Glitches are not modelled (zero-delay
simulation), which biases E_dynamic low.

iCE40 UP5K constants, derived from the tinyvision-ai-inc ``ice40_power``
measurements (iCE40UP5K-SG48, core rail 1.219 V, Joulescope JS110):

- static: blank design 85.6 uA → P_static = 85.6 uA x 1.219 V = 104.3 uW;
- clock: external 12 MHz clock + 28-bit counter (32 LCs) 613.5 uA →
  (613.5 - 85.6) uA x 1.219 V / 12 MHz = 53.6 pJ per cycle. Adding counters to 228
  LCs raises it to 641.3 uA: (641.3 - 613.5) uA / 196 LCs x 1.219 V / 12 MHz =
  14.4 fJ per extra clocked cell per cycle (e_ff), so e_clock_base = 53.6 pJ - 32 x
  14.4 fJ = 53.1 pJ;
- toggles: HFOSC 12 MHz + 8x8-bit multiply of two counters in logic (208 LCs)
  996 uA vs the same counter alone (28 LCs) 645 uA: 351 uA x 1.219 V / 12 MHz =
  35.7 pJ per cycle for 180 LCs of multiplier. Assuming those LCs toggle on half
  the cycles (activity 0.5, not measured) gives e_toggle = 35.7 pJ / 90 = 0.40 pJ.

Uncertainty: e_toggle rests on the assumed activity of the calibration design
(plausibly 0.25-1.0, so x0.5 to x2); glitching and routing length differ between
designs. Treat totals as +-2x.

ECP5 (LFE5U-85F): no comparable public measurement was at hand. Assumptions,
labelled as such: static core current 25 mA at 1.1 V (P_static = 27.5 mW, an
order-of-magnitude figure for a 85k-LUT 40 nm part, to be replaced by a
measurement); e_toggle and per-cell clock energy scaled from iCE40 by (1.1/1.219)^2;
clock base 5x iCE40's for a die about 16x larger. Uncertainty: treat as +-3x.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["EnergyConstants", "ENERGY", "estimate_energy"]

ICE40_SOURCE = ("tinyvision-ai-inc/ice40_power measurements of iCE40UP5K-SG48 (core rail "
                "1.219 V): blank 85.6 uA; ext. 12 MHz + counter 613.5 uA (32 LC) .. 641.3 uA "
                "(228 LC); HFOSC 12 MHz counter 645 uA vs + logic multiplier 996 uA (208 LC)")


@dataclass(frozen=True)
class EnergyConstants:
    e_toggle_pj: float  # per logic-cell output toggle
    e_ff_pj: float  # clock energy per flip-flop per cycle
    e_clock_base_pj: float  # clock network per cycle
    p_static_uw: float
    uncertainty: str
    source: str


_SCALE = (1.1 / 1.219) ** 2

ENERGY = {
    "ice40": EnergyConstants(
        e_toggle_pj=35.7 / 90, e_ff_pj=0.0144, e_clock_base_pj=53.1, p_static_uw=104.3,
        uncertainty="+-2x (calibration design's activity assumed 0.5; no glitches modelled)",
        source=ICE40_SOURCE),
    "ecp5": EnergyConstants(
        e_toggle_pj=35.7 / 90 * _SCALE, e_ff_pj=0.0144 * _SCALE, e_clock_base_pj=5 * 53.1,
        p_static_uw=27500.0,
        uncertainty="+-3x (assumed constants, scaled from iCE40 measurements by V^2; static "
                    "power assumed, not measured)",
        source="assumption scaled from " + ICE40_SOURCE),
}


def estimate_energy(family: str, activity: dict | None, cells_by_stage: dict, ffs: int,
                    freq_mhz: float | None) -> dict:
    """The energy fields of a report (all labelled as estimates)."""
    constants = ENERGY.get(family)
    if constants is None or activity is None or not freq_mhz:
        why = ("no energy model for this family" if constants is None else
               "no switching activity (run `lutmesh verify`)" if activity is None else
               "no clock frequency (no place and route)")
        return {"dynamic": None, "clock": None, "static": None, "total": None,
                "method": f"not estimated: {why}", "constants": None, "source": None,
                "label": "estimate"}
    rates = {name: s["toggle_rate"] for name, s in activity["stages"].items()}
    dynamic_by_stage = {}
    for stage, cells in cells_by_stage.items():
        if stage == "harness":  # the P&R wrapper, not part of the model
            continue
        rate = rates.get(stage, 0.0)
        logic = cells.get("luts", 0) + cells.get("carries", 0)
        dynamic_by_stage[stage] = logic * rate * constants.e_toggle_pj
    dynamic = sum(dynamic_by_stage.values())
    clock = constants.e_clock_base_pj + ffs * constants.e_ff_pj
    static = constants.p_static_uw / freq_mhz  # uW / MHz = pJ per cycle
    return {
        "dynamic": round(dynamic, 2),
        "dynamic_by_stage": {k: round(v, 3) for k, v in dynamic_by_stage.items()},
        "clock": round(clock, 2),
        "static": round(static, 2),
        "total": round(dynamic + clock + static, 2),
        "unit": "pJ per inference",
        "frequency_mhz": freq_mhz,
        "method": "SAIF toggle rate per stage x mapped logic cells x e_toggle; clock base + "
                  "e_ff per flip-flop per cycle; static power / f; 1 inference per cycle",
        "constants": asdict(constants),
        "source": constants.source,
        "uncertainty": constants.uncertainty,
        "label": "estimate",
    }
