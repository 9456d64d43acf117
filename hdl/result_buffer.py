"""The output buffer of the ``Inference`` core: results wait here for the consumer.

The pipeline in front of it never stalls, so this buffer is what makes
back-pressure work: the core's credit counter guarantees it never overflows, and
it therefore has no full check. It is built for an iCE40 UP5K at 100 MHz, where
a register-to-register path has room for about two LUT levels and their routes;
every path here is at most two LUT4s deep, the first level being a module of its
own (:class:`LutLevel`) so that synthesis cannot make it deeper.

The queue is a ring in block RAM (one ``SB_RAM40_4K``), and ``o.payload`` is the
RAM's own synchronous read register: the ring's head is read exactly when the
output is empty or taken and the ring holds a result, so the payload needs no
register or multiplexer of its own. The flip-flop queue this replaces (shifting
towards an output register with a skid register behind it) cost 293 LUT4 / 137 FF
on the default digits model, a LUT or two per stored bit; this costs 43 LUT4 / 38 FF
and one block RAM, at the same 100.14 MHz on seeds 1-5 (``lutmesh report --seeds
5``). (An earlier block-RAM ring, measured at 60.8 MHz before the two-level work,
was not kept.) No path is more than two LUTs deep, and nothing is compared:

* how many results the buffer holds (the ring and the output register) is a
  thermometer count: a flip-flop per place, a first-level LUT each, and one shared
  enable, so "the ring holds one" is a LUT of two count bits and ``o.valid``;
* the read and write addresses are XNOR linear-feedback shift registers stepping
  through the same ``2**n - 1`` states: each bit is the bit below or the feedback of
  two taps, so a step is one LUT per bit behind the read decision, where a binary
  ``+1`` is a carry chain.

A result written on one clock edge is read, and offered, on the next.
"""

from __future__ import annotations

from amaranth import Cat, Module, Mux, ResetSignal, Shape
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .lut_level import LutLevel
from .reset import control_register, reset_register

__all__ = ["ResultBuffer", "lfsr_bits", "lfsr_step"]

# XNOR feedback taps (1-based bit numbers, Xilinx XAPP052) of maximal-length LFSRs;
# 8 is left out (it needs four taps): a 9-bit register takes its place.
_TAPS = {2: (2, 1), 3: (3, 2), 4: (4, 3), 5: (5, 3), 6: (6, 5), 7: (7, 6), 9: (9, 5),
         10: (10, 7), 11: (11, 9)}


def lfsr_bits(places: int) -> int:
    """Bits of the shortest LFSR in :data:`_TAPS` with at least ``places`` states."""
    for n in sorted(_TAPS):
        if 2 ** n - 1 >= places:
            return n
    raise ValueError(f"{places} places: at most {2 ** max(_TAPS) - 1} supported")


def lfsr_step(state):
    """The next state of an XNOR LFSR (all ones is the one state it never reaches;
    it starts at 0, the reset value every register here has)."""
    a, b = _TAPS[len(state)]
    return Cat(~(state[a - 1] ^ state[b - 1]), state[:-1])


class ResultBuffer(wiring.Component):
    """A queue of results with registered outputs and no full check.

    Parameters
    ----------
    layout : Layout
        The payload of both streams.
    capacity : int
        Results it can hold (at least 2: the ring and the output register). The writer
        must never hold more than ``capacity`` results in flight and waiting together
        (it counts credits); ``i.ready`` is therefore always high.

    Attributes
    ----------
    i : In(stream.Signature(layout, always_ready=True))
    o : Out(stream.Signature(layout))
    held : Signal(capacity)
        Results in the buffer (the ring and the output register), as a thermometer code
        (bit k set while more than k are held).
    read_addr, write_addr : Signal
        The ring's head and tail: LFSR states (:func:`lfsr_step`).
    out_valid : Signal
        ``o.valid``'s flip-flop. These control registers are visible to testbenches
        and the formal proof; they reset to 0 through :func:`reset_register` (no ``x``
        in 4-state simulation with reset held from time 0). Every register resets to
        0: the iCE40 flow inverts a flip-flop that starts at 1, and that inverter is a
        LUT level of its own where it meets a module boundary.
    ring : Memory
        The results (``2**n`` words; the LFSR addresses use ``2**n - 1`` of them).
    """

    LATENCY = 2  # clock edges from a write to the result being offered (buffer empty)

    def __init__(self, layout, capacity: int):
        if capacity < 2:
            raise ValueError(f"capacity = {capacity}: expected >= 2")
        self._layout = layout
        self.capacity = capacity
        # the ring holds at most capacity - 1 (the output register holds the other)
        bits = lfsr_bits(capacity - 1)
        self.held = control_register(capacity, "held")
        self.read_addr = control_register(bits, "read_addr")
        self.write_addr = control_register(bits, "write_addr")
        self.out_valid = control_register(1, "out_valid")
        self.ring = Memory(shape=Shape.cast(layout).width, depth=2 ** bits, init=[],
                           attrs={"no_rw_check": 1})
        # ports made once here, not per elaboration (each call would add a port).
        # No address is read and written on one edge: a read takes the head, a write
        # lands as many places behind it as the ring holds, fewer than 2**n - 1
        # (proved in tests/test_hdl_formal.py). ``no_rw_check`` tells Yosys so: without
        # it, it emulated the collision with a registered bypass (+15 FF, +7 LUT4).
        self._write = self.ring.write_port()
        self._read = self.ring.read_port(domain="sync", transparent_for=())
        super().__init__({
            "i": In(stream.Signature(layout, always_ready=True)),
            "o": Out(stream.Signature(layout)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.ring = self.ring
        held, out_valid, ready = self.held, self.out_valid, self.o.ready
        write = self.i.valid
        rst = ResetSignal(allow_reset_less=True)
        first = LutLevel(m, "first_level")
        # Every register below is one LUT of at most four inputs, each a flip-flop, a
        # port or a ``first`` wire: two LUT levels from any flip-flop. The ring holds
        # ``held`` less the output register's result; its head is read when it holds
        # one and the output register is empty or taken.
        in_ring = first.wire(Mux(out_valid, held[1], held[0]), "in_ring")
        read = first.wire(Mux(out_valid, held[1] & ready, held[0]), "read")
        reset_register(m, out_valid, Mux(ready | ~out_valid, in_ring, out_valid))
        reset_register(m, self.read_addr,
                       Mux(read, lfsr_step(self.read_addr), self.read_addr))
        reset_register(m, self.write_addr,
                       Mux(write, lfsr_step(self.write_addr), self.write_addr))
        # The count steps when a result comes or goes, not both. Its reset is folded
        # into the first level (the enable and each bit's next value), so the enable is
        # one LUT: with the reset added by synthesis (an iCE40 enable gates the
        # synchronous reset) it was a second LUT in front of the 27 enable pins, the
        # critical path of every seed (80.2-94.4 MHz on seeds 1-5).
        step = first.wire(rst | (write ^ (out_valid & ready)), "step")
        n = len(held)
        moved = Cat(*(first.wire(~rst & Mux(write, held[k - 1] if k else 1,
                                            held[k + 1] if k + 1 < n else 0), f"moved{k}")
                      for k in range(n)))
        m.d.sync += held.eq(Mux(step, moved, held))
        wr, rd = self._write, self._read
        m.d.comb += [wr.addr.eq(self.write_addr), wr.data.eq(self.i.payload), wr.en.eq(write),
                     rd.addr.eq(self.read_addr), rd.en.eq(read),
                     self.o.valid.eq(out_valid), self.o.payload.eq(rd.data)]
        return m
