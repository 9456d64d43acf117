"""A few-pin wrapper of the emitted core for out-of-context place and route.

A model's input payload is hundreds of bits wide (64 features x 5 bits for
digits): more pins than an iCE40 package has. Published LUT-network figures come
from out-of-context runs; nextpnr-ice40 has no such mode, so the core is wrapped
in a harness that loads the payload through a serial shift register and passes
every handshake and the class output through registers, so every path into and
out of the core is a register-to-register path that counts in the clock's Fmax. The
harness's own cells are counted separately in the report (stage ``harness``).

The core is the emitted Verilog itself, instantiated by name from its manifest: what
is measured is exactly what ``lutmesh verify`` checked, not a rebuild of the netlist.
"""

from __future__ import annotations

from amaranth import Cat, ClockSignal, Instance, Module, ResetSignal, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["PinHarness"]


PIN_REGISTERS = 3


def _retimed(m: Module, value, name: str):
    """``value`` through ``PIN_REGISTERS`` flip-flops.

    nextpnr places unconstrained pins anywhere on the die's edge; with one register
    between a pin and the core, a handshake flip-flop of the core was pulled
    towards a far pin and a 4 ns route from it became the critical path. More
    registers let the placer split that route, so the harness measures the core;
    with two, ``o_ready`` (read by both the output buffer and the credit counter)
    still arrived over a 5.5 ns route on one nextpnr seed in four.
    """
    for k in range(PIN_REGISTERS):
        reg = Signal(len(value), name=f"pin_{name}_{k}")
        m.d.sync += reg.eq(value)
        value = reg
    return value


def _port_width(manifest: dict, name: str) -> int:
    return next(int(p["width"]) for p in manifest["ports"] if p["name"] == name)


class PinHarness(wiring.Component):
    """The emitted core behind a serial payload loader and registered pins.

    Parameters
    ----------
    manifest : dict
        The ``manifest.json`` of the emitted Verilog (top name, ports, class field).

    Attributes
    ----------
    sin, load : In(1)
        Payload bit and shift enable (the payload register shifts towards bit 0).
    i_valid, o_ready : In(1)
    i_ready, o_valid : Out(1)
    cls : Out(class_width)
    """

    def __init__(self, manifest: dict):
        self._manifest = manifest
        self.payload_width = _port_width(manifest, "i__payload")
        self.class_width = int(manifest["outputs"][0]["width"])
        super().__init__({
            "sin": In(1), "load": In(1),
            "i_valid": In(1), "i_ready": Out(1),
            "o_valid": Out(1), "o_ready": In(1),
            "cls": Out(self.class_width),
        })

    def elaborate(self, platform):
        m = Module()
        shift = Signal(self.payload_width, reset_less=True)
        with m.If(self.load):
            m.d.sync += shift.eq(Cat(shift[1:], self.sin))
        i_ready, o_valid = Signal(), Signal()
        o_payload = Signal(_port_width(self._manifest, "o__payload"))
        man = self._manifest
        m.submodules.core = Instance(
            man["top"],
            **{f"i_{man['clock']}": ClockSignal(), f"i_{man['reset']}": ResetSignal()},
            i_i__payload=shift, i_i__valid=_retimed(m, self.i_valid, "i_valid"),
            o_i__ready=i_ready,
            o_o__payload=o_payload, o_o__valid=o_valid,
            i_o__ready=_retimed(m, self.o_ready, "o_ready"))
        m.d.comb += [
            self.i_ready.eq(_retimed(m, i_ready, "i_ready")),
            self.o_valid.eq(_retimed(m, o_valid, "o_valid")),
            self.cls.eq(_retimed(m, o_payload[:self.class_width], "cls")),
        ]
        return m
