"""sim.verilator: what names a cached simulator build."""

from lutmesh.sim import verilator


def test_build_key_names_the_environment_whose_cocotb_is_linked(monkeypatch):
    """A build links cocotb's VPI library by path: one made by another virtual
    environment must not be reused (it fails to start once that one is gone)."""
    key = verilator._build_key(b"module top; endmodule", "top", None, "verilator")
    assert key == verilator._build_key(b"module top; endmodule", "top", None, "verilator")
    assert key != verilator._build_key(b"module top; endmodule", "top", "vcd", "verilator")
    monkeypatch.setattr(verilator, "cocotb_home", lambda: "/elsewhere/.venv/cocotb")
    assert key != verilator._build_key(b"module top; endmodule", "top", None, "verilator")
