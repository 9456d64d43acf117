"""Energy per inference: an *estimate* from simulated switching activity.

Model (one inference per clock cycle at frequency ``f``, the core's throughput)::

    E_dynamic      = sum over stages of  cells(stage) * toggle_rate(stage) * e_toggle
    E_interconnect = sum over stages of  wires(stage) * toggle_rate(stage) * e_wire
    E_clock        = e_clock_base + flip_flops * e_ff
    E_static       = P_static / f

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

Interconnect: ``wires(stage)`` is the routed wire of the stage's nets, counted as
PIPs in nextpnr's routed design (:mod:`lutmesh.report.routing`); a net toggles at its
stage's rate and each toggle charges every segment it was routed through. The
calibration toggle energy above (0.397 pJ per LC toggle) is a *measured* figure for
logic **and** its routing, so it is split, not added to:

- share of interconnect in logic+routing dynamic power: 0.6 (assumed). The one
  published breakdown at hand, Shang, Kaviani and Bathala, "Dynamic power consumption
  in Virtex-II FPGA family" (FPGA 2002), measured 60% of dynamic power in interconnect
  and 16% in logic, i.e. 79% of logic+interconnect; iCE40's fabric is small and
  short-wired, so we take the rounder 0.6 (plausible range 0.4-0.8). Hence
  e_toggle = 0.4 x 0.397 = 0.159 pJ per logic-cell toggle;
- wire per net of the calibration design: an 8x8 multiplier of two counter bytes
  plus a 28-bit counter (``synth_ice40``: 174 SB_LUT4, 26 SB_CARRY, 32 SB_DFF, close
  to the measured design's 208 LCs), placed and routed by nextpnr-ice40 0.11 on the
  UP5K (seed 1), uses 1,599 PIPs on 202 nets besides the clock: 7.92 per net.
  Hence e_wire = 0.6 x 0.397 pJ / 7.92 = 0.030 pJ per PIP per toggle.

By construction the calibration design's estimate is unchanged (logic + wire = the
measured 0.397 pJ per toggle); what changes is that a design whose nets are longer
or shorter than the calibration's pays for it.

Uncertainty: e_toggle rests on the assumed activity of the calibration design
(plausibly 0.25-1.0, so x0.5 to x2); glitching and routing length differ between
designs. Treat totals as +-2x; e_wire, +-2x on its own (share 0.4-0.8, the
calibration's routing is one seed of a stand-in design). Ratios between two designs
on one target (local vs global mesh) are much better known than either figure.

ECP5 (LFE5U-85F): no comparable public measurement was at hand. Assumptions,
labelled as such: static core current 25 mA at 1.1 V (P_static = 27.5 mW, an
order-of-magnitude figure for a 85k-LUT 40 nm part, to be replaced by a
measurement); e_toggle and per-cell clock energy scaled from iCE40 by (1.1/1.219)^2;
clock base 5x iCE40's for a die about 16x larger; e_wire scaled likewise, although
an ECP5 route crosses more PIPs per unit length than an iCE40 one (its routing
graph has more intermediate hops), so ECP5 interconnect is likely over-estimated.
Uncertainty: treat as +-3x.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["EnergyConstants", "ENERGY", "estimate_energy"]

ICE40_SOURCE = ("tinyvision-ai-inc/ice40_power measurements of iCE40UP5K-SG48 (core rail "
                "1.219 V): blank 85.6 uA; ext. 12 MHz + counter 613.5 uA (32 LC) .. 641.3 uA "
                "(228 LC); HFOSC 12 MHz counter 645 uA vs + logic multiplier 996 uA (208 LC)")


@dataclass(frozen=True)
class EnergyConstants:
    e_toggle_pj: float  # per logic-cell output toggle (logic share only)
    e_wire_pj: float  # per routed PIP per toggle of its net
    e_ff_pj: float  # clock energy per flip-flop per cycle
    e_clock_base_pj: float  # clock network per cycle
    p_static_uw: float
    uncertainty: str
    source: str


_SCALE = (1.1 / 1.219) ** 2
_E_CAL = 35.7 / 90  # pJ per LC toggle, logic and routing (calibration, see above)
_WIRE_SHARE = 0.6  # assumed share of routing in _E_CAL
_CAL_WIRES_PER_NET = 1599 / 202  # PIPs per net of the calibration design, nextpnr-ice40

ENERGY = {
    "ice40": EnergyConstants(
        e_toggle_pj=(1 - _WIRE_SHARE) * _E_CAL,
        e_wire_pj=_WIRE_SHARE * _E_CAL / _CAL_WIRES_PER_NET, e_ff_pj=0.0144, e_clock_base_pj=53.1, p_static_uw=104.3,
        uncertainty="+-2x (calibration design's activity assumed 0.5, routing share 0.6; "
                    "no glitches modelled)",
        source=ICE40_SOURCE),
    "ecp5": EnergyConstants(
        e_toggle_pj=(1 - _WIRE_SHARE) * _E_CAL * _SCALE,
        e_wire_pj=_WIRE_SHARE * _E_CAL / _CAL_WIRES_PER_NET * _SCALE, e_ff_pj=0.0144 * _SCALE, e_clock_base_pj=5 * 53.1,
        p_static_uw=27500.0,
        uncertainty="+-3x (assumed constants, scaled from iCE40 measurements by V^2; static "
                    "power assumed, not measured)",
        source="assumption scaled from " + ICE40_SOURCE),
}


def estimate_energy(family: str, activity: dict | None, cells_by_stage: dict, ffs: int,
                    freq_mhz: float | None, wires_by_stage: dict | None = None) -> dict:
    """The energy fields of a report (all labelled as estimates).

    ``wires_by_stage``: routed PIPs per stage (``routing.by_stage[s]["wires"]``); without
    it the interconnect term is None and left out of the total.
    """
    constants = ENERGY.get(family)
    if constants is None or activity is None or not freq_mhz:
        why = ("no energy model for this family" if constants is None else
               "no switching activity (run `lutmesh verify`)" if activity is None else
               "no clock frequency (no place and route)")
        return {"dynamic": None, "interconnect": None, "clock": None, "static": None,
                "total": None, "method": f"not estimated: {why}", "constants": None,
                "source": None, "label": "estimate"}
    rates = {name: s["toggle_rate"] for name, s in activity["stages"].items()}
    dynamic_by_stage = {}
    for stage, cells in cells_by_stage.items():
        if stage == "harness":  # the P&R wrapper, not part of the model
            continue
        logic = cells.get("luts", 0) + cells.get("carries", 0)
        dynamic_by_stage[stage] = logic * rates.get(stage, 0.0) * constants.e_toggle_pj
    wire_by_stage = None
    if wires_by_stage is not None:  # stages without a rate (harness, clock, other) drop out
        wire_by_stage = {stage: wires * rates[stage] * constants.e_wire_pj
                         for stage, wires in wires_by_stage.items() if stage in rates}
    dynamic = sum(dynamic_by_stage.values())
    interconnect = sum(wire_by_stage.values()) if wire_by_stage is not None else None
    clock = constants.e_clock_base_pj + ffs * constants.e_ff_pj
    static = constants.p_static_uw / freq_mhz  # uW / MHz = pJ per cycle
    return {
        "dynamic": round(dynamic, 2),
        "dynamic_by_stage": {k: round(v, 3) for k, v in dynamic_by_stage.items()},
        "interconnect": None if interconnect is None else round(interconnect, 2),
        "interconnect_by_stage": None if wire_by_stage is None else
        {k: round(v, 3) for k, v in wire_by_stage.items()},
        "clock": round(clock, 2),
        "static": round(static, 2),
        "total": round(dynamic + (interconnect or 0.0) + clock + static, 2),
        "total_without_interconnect": round(dynamic + clock + static, 2),
        "unit": "pJ per inference",
        "frequency_mhz": freq_mhz,
        "method": "SAIF toggle rate per stage x mapped logic cells x e_toggle; + routed PIPs "
                  "per stage x the stage's toggle rate x e_wire; clock base + e_ff per "
                  "flip-flop per cycle; static power / f; 1 inference per cycle",
        "constants": asdict(constants),
        "source": constants.source,
        "uncertainty": constants.uncertainty,
        "label": "estimate",
    }
