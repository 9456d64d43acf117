"""report.synth and report.targets: cells by family, modules by stage."""

import pytest

from lutmesh.errors import ConfigError
from lutmesh.report.synth import stage_of_module
from lutmesh.report.targets import get_target


def test_cells_are_classified_per_family():
    assert get_target("ice40-up5k").classify("SB_DFFESR") == "ffs"
    assert get_target("ice40-up5k").classify("SB_CARRY") == "carries"
    assert get_target("ecp5-85k").classify("LUT4") == "luts"
    assert get_target("xilinx").classify("LUT6") == "luts"
    assert get_target("xilinx").classify("FDRE") == "ffs"
    with pytest.raises(ConfigError, match="unknown target 'ice41'"):
        get_target("ice41")


def test_modules_map_to_stages():
    assert stage_of_module("\\lutmesh_harness") == "harness"
    assert stage_of_module("lutmesh_top") == "control"
    assert stage_of_module("\\lutmesh_top.layer3") == "layer3"
    assert stage_of_module("\\lutmesh_top.output_buffer.lut_level") == "output_buffer"
    assert stage_of_module("\\core2.readout", core="core2") == "readout"
