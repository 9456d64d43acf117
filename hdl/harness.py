"""A few-pin wrapper of the ``Inference`` core for out-of-context place and route.

A model's input payload is hundreds of bits wide (64 features x 5 bits for
digits): more pins than an iCE40 package has. Published LUT-network figures come
from out-of-context runs; nextpnr-ice40 has no such mode, so the core is wrapped
in a harness that loads the payload through a serial shift register and
registers the consumer's ``ready``, the way a real system would drive it. The
harness's own cells are counted separately in the report (stage ``harness``).
"""

from __future__ import annotations

from amaranth import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..netlist import Netlist
from .inference import Inference

__all__ = ["PinHarness"]


class PinHarness(wiring.Component):
    """``Inference`` behind a serial payload loader and registered handshakes.

    Attributes
    ----------
    sin, load : In(1)
        Payload bit and shift enable (the payload register shifts towards bit 0).
    i_valid, o_ready : In(1)
    i_ready, o_valid : Out(1)
    cls : Out(class_width)
    """

    def __init__(self, net: Netlist, **core_options):
        self.core = Inference(net, **core_options)
        self.payload_width = sum(int(b) for b in net.quantizer.bits)
        super().__init__({
            "sin": In(1), "load": In(1),
            "i_valid": In(1), "i_ready": Out(1),
            "o_valid": Out(1), "o_ready": In(1),
            "cls": Out(self.core.readout.class_width),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self.core
        shift = Signal(self.payload_width, reset_less=True)
        with m.If(self.load):
            m.d.sync += shift.eq(Cat(shift[1:], self.sin))
        i_valid, o_ready = Signal(), Signal()
        m.d.sync += [i_valid.eq(self.i_valid), o_ready.eq(self.o_ready)]
        m.d.comb += [
            core.i.payload.eq(shift),
            core.i.valid.eq(i_valid),
            self.i_ready.eq(core.i.ready),
            self.o_valid.eq(core.o.valid),
            core.o.ready.eq(o_ready),
            self.cls.eq(core.o.payload.cls),
        ]
        return m
