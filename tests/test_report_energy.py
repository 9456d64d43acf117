"""report.energy: the documented sum, and the interconnect term."""

import pytest

from lutmesh.report.energy import ENERGY, estimate_energy

ACTIVITY = {"stages": {"encoder": {"toggle_rate": 0.2}, "layer0": {"toggle_rate": 0.3},
                       "readout": {"toggle_rate": 0.1}, "control": {"toggle_rate": 0.05}}}


def test_energy_is_the_documented_sum():
    cells = {"encoder": {"luts": 10, "carries": 0}, "layer0": {"luts": 100, "carries": 0},
             "readout": {"luts": 50, "carries": 20}, "control": {"luts": 2, "carries": 0}}
    e = estimate_energy("ice40", ACTIVITY, cells, ffs=200, freq_mhz=50.0)
    c = ENERGY["ice40"]
    dyn = (10 * 0.2 + 100 * 0.3 + 70 * 0.1 + 2 * 0.05) * c.e_toggle_pj
    assert e["dynamic"] == pytest.approx(dyn, abs=0.01)
    assert e["clock"] == pytest.approx(c.e_clock_base_pj + 200 * c.e_ff_pj, abs=0.01)
    assert e["static"] == pytest.approx(c.p_static_uw / 50.0, abs=0.01)
    assert e["total"] == pytest.approx(e["dynamic"] + e["clock"] + e["static"], abs=0.02)
    assert e["label"] == "estimate" and "ice40_power" in e["source"]
    none = estimate_energy("xilinx", ACTIVITY, cells, ffs=200, freq_mhz=None)
    assert none["total"] is None and none["method"].startswith("not estimated")


def test_interconnect_energy_is_wires_times_rate_times_e_wire():
    cells = {"layer0": {"luts": 100, "carries": 0}}
    wires = {"layer0": 1000, "encoder": 200, "harness": 500, "clock": 80}
    e = estimate_energy("ice40", ACTIVITY, cells, ffs=0, freq_mhz=50.0, wires_by_stage=wires)
    c = ENERGY["ice40"]
    assert e["interconnect"] == pytest.approx((1000 * 0.3 + 200 * 0.2) * c.e_wire_pj, abs=0.01)
    assert set(e["interconnect_by_stage"]) == {"layer0", "encoder"}  # no harness, no clock
    assert e["total"] == pytest.approx(e["total_without_interconnect"] + e["interconnect"],
                                       abs=0.02)
    # the split keeps the calibration: logic + its 7.92 PIPs per net = the measured toggle
    assert c.e_toggle_pj + 1599 / 202 * c.e_wire_pj == pytest.approx(35.7 / 90)
    no_wires = estimate_energy("ice40", ACTIVITY, cells, ffs=0, freq_mhz=50.0)
    assert no_wires["interconnect"] is None and no_wires["total"] == e["total_without_interconnect"]
