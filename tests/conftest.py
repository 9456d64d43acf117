"""Fixtures shared by the report tests: one small random netlist and its Verilog."""

import pytest

from lutmesh.hdl.emit import emit_verilog
from lutmesh.testing import random_netlist


@pytest.fixture(scope="module")
def small():
    return random_netlist(7, features=8, k=4, layers=2, nodes_per_layer=60, classes=4, radius=2)


@pytest.fixture(scope="module")
def small_rtl(small, tmp_path_factory):
    rtl = tmp_path_factory.mktemp("rtl")
    emit_verilog(small, rtl)
    return rtl
