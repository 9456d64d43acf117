"""The iCE40 cost estimate, and training to a LUT4 budget against a real synthesis."""

import tempfile
from pathlib import Path

import pytest

from lutmesh.cost import estimate_encoder_carries, estimate_ice40_luts, scale_layers_to_budget
from lutmesh.train.wiring import parse_layers

DIGITS_BITS = [5] * 173  # the digits default's encoded bits, each of a 5-bit feature


def test_estimate_adds_its_parts_and_grows_with_k():
    est = estimate_ice40_luts([512, 560], 4, DIGITS_BITS, 10)
    assert est["total"] == est["encoder"] + est["nodes"] + est["readout"] + est["fixed"]
    assert est["nodes"] == 1072
    assert estimate_ice40_luts([512, 560], 6, DIGITS_BITS, 10)["nodes"] > 5 * 1072


def test_encoder_counts_bits_by_width_and_only_those_the_first_layer_can_read():
    assert estimate_ice40_luts([100, 20], 4, [4] * 300, 2)["encoder"] == 300
    assert estimate_ice40_luts([10, 20], 4, [4] * 300, 2)["encoder"] == 40  # 10 nodes x K
    assert estimate_ice40_luts([100, 20], 4, [8] * 300, 2)["encoder"] < 10  # carry chains


def test_wide_features_are_counted_in_carry_cells_beside_the_lut4s():
    """Fashion-MNIST sized for 3,900 LUT4s synthesised to 13,098 encoder carries for
    the 3,783 thresholds on 8-bit pixels it had before pruning; a truth table has none."""
    assert estimate_encoder_carries([512, 560], 4, DIGITS_BITS) == 0
    assert abs(estimate_encoder_carries([980, 100], 4, [8] * 3783) - 13098) < 0.01 * 13098
    assert estimate_encoder_carries([10, 20], 4, [8] * 300) == round(0.43 * 8 * 40)


def test_layers_that_fit_are_kept():
    layers, est = scale_layers_to_budget(parse_layers("8x8x8,4x4x35"), 4, DIGITS_BITS, 10, 5280)
    assert layers == "8x8x8,4x4x35" and est["total"] <= 5280


@pytest.mark.parametrize("budget", [2200, 1500, 900])
def test_layers_shrink_by_one_factor_to_the_largest_that_fits(budget):
    specs = parse_layers("8x8x8,4x4x35")
    layers, est = scale_layers_to_budget(specs, 4, DIGITS_BITS, 10, budget)
    assert est["total"] <= budget
    channels = [s.channels for s in parse_layers(layers)]
    assert all(c < 8 for c in channels[:1]) and channels[1] < 35
    # one more channel in the last layer would not fit
    bigger = [s.rows * s.cols * s.channels for s in parse_layers(layers)]
    bigger[-1] += 16
    assert estimate_ice40_luts(bigger, 4, DIGITS_BITS, 10)["total"] > budget


def test_a_budget_nothing_fits_is_refused():
    with pytest.raises(ValueError, match="even 8x8x1,4x4x1 needs"):
        scale_layers_to_budget(parse_layers("8x8x8,4x4x35"), 4, DIGITS_BITS, 10, 100)


@pytest.mark.slow
def test_a_model_trained_to_a_budget_synthesises_within_it():
    """The estimate against Yosys: digits sized for 1,500 LUT4s lands at 1,413 here."""
    from lutmesh.hdl.emit import emit_verilog
    from lutmesh.report.synth import synthesize
    from lutmesh.report.targets import get_target
    from lutmesh.train.config import TrainConfig, load_config
    from lutmesh.train.trainer import fit
    from lutmesh.datasets import load_dataset

    data = load_dataset("digits")
    result = fit(data, load_config(data=data, lut_budget=1500, progress=False))
    default = TrainConfig().layers
    assert result.metrics["budget"]["layers"] != default
    assert result.metrics["config"]["layers"] == default  # what was asked for
    with tempfile.TemporaryDirectory() as work:
        core, manifest = emit_verilog(result.netlist, Path(work) / "rtl")
        synth = synthesize(core, manifest, get_target("ice40-up5k"), Path(work) / "synth",
                           log=lambda _: None)
    assert 0.85 * 1500 <= synth.totals["luts"] <= 1500


def test_a_budget_record_keeps_the_carry_cells_it_leaves_out():
    from lutmesh.train.config import TrainConfig
    from lutmesh.train.trainer import _fit_budget

    sized, record = _fit_budget(TrainConfig(layers="8x8x8,4x4x35", lut_budget=1500),
                                [8] * 300, 10)
    assert record["layers"] == sized.layers != "8x8x8,4x4x35"
    first = sized.layer_specs[0].n_nodes
    assert record["encoder_carries"] == round(0.43 * 8 * min(300, 4 * first)) > 0
    assert _fit_budget(TrainConfig(lut_budget=1500), DIGITS_BITS, 10)[1]["encoder_carries"] == 0
