"""The output buffer of the ``Inference`` core: results wait here for the consumer.

The pipeline in front of it never stalls, so this buffer is what makes
back-pressure work: the core's credit counter guarantees it never overflows, and
it therefore has no full check. It is built for an iCE40 UP5K at 100 MHz, where
a register-to-register path has room for about two LUT levels and their routes;
every path here is at most two LUT4s deep:

* ``o.valid`` and ``o.payload`` are flip-flops: an output register with a skid
  register behind it, so the queue sees a *registered* ready. Read out of a
  26-entry queue through a one-hot AND-OR, the payload was four LUT levels (the
  critical path of the default digits model, 15.1 ns, once the harness registered
  it);
* the queue shifts towards the output: its oldest entry is always entry 0, and a
  result is written at the tail, marked by a one-hot register that also says
  whether the queue is empty. Shift-in queues and rings need a 26-way read
  multiplexer instead.

A result written on one clock edge is offered after the second.
"""

from __future__ import annotations

from amaranth import Module, Mux, Shape, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["ResultBuffer", "lut_wire"]


def lut_wire(m: Module, value, name: str) -> Signal:
    """``value`` on a wire that synthesis keeps, i.e. the output of its own LUT(s).

    Yosys's LUT mapper (ABC) knows nothing of routing: it happily builds three LUT
    levels where two would do, as long as no path gets longer than the longest
    carry chain. On an iCE40 UP5K every LUT level costs a route of 1.7-5 ns, so the
    logic that must be two levels deep names its first level explicitly.
    """
    wire = Signal(len(value), name=name, attrs={"keep": 1})
    m.d.comb += wire.eq(value)
    return wire


class ResultBuffer(wiring.Component):
    """A queue of results with registered outputs and no full check.

    Parameters
    ----------
    layout : Layout
        The payload of both streams.
    capacity : int
        Results it can hold (at least 3: the queue, the skid register and the output
        register). The writer must never hold more than ``capacity`` results in
        flight and waiting together (it counts credits); ``i.ready`` is therefore
        always high.

    Attributes
    ----------
    i : In(stream.Signature(layout, always_ready=True))
    o : Out(stream.Signature(layout))
    tail, shift, skid_valid : Signal
        Control state, visible to testbenches: the one-hot write position (its top
        bit: the queue is full), the queue-shifts flag and the skid register's valid.
    """

    LATENCY = 2  # clock edges from a write to the result being offered (buffer empty)

    def __init__(self, layout, capacity: int):
        if capacity < 3:
            raise ValueError(f"capacity = {capacity}: expected >= 3")
        self._layout = layout
        self.capacity = capacity
        # one-hot: where the next result goes = how many wait (the top bit: full)
        self.tail = Signal(capacity - 1, name="tail", init=1)
        self.shift = Signal(name="shift")
        self.skid_valid = Signal(name="skid_valid")
        super().__init__({
            "i": In(stream.Signature(layout, always_ready=True)),
            "o": Out(stream.Signature(layout)),
        })

    def elaborate(self, platform):
        m = Module()
        depth = self.capacity - 2  # the output and skid registers hold the other two
        width = Shape.cast(self._layout).width
        entries = [Signal(width, name=f"entry{k}", reset_less=True) for k in range(depth)]
        tail, shift, skid_valid = self.tail, self.shift, self.skid_valid
        skid = Signal(width, name="skid", reset_less=True)
        out = Signal(width, name="out", reset_less=True)
        out_valid = Signal(name="out_valid")

        write = self.i.valid
        queued = ~tail[0]
        load = self.o.ready | ~out_valid
        # The queue's head leaves when the skid register is empty: a registered ready.
        # ``shift`` is always ``queued & ~skid_valid``, but as a flip-flop of its own
        # (computed from both bits' next values), so the queue's logic below is two
        # LUT levels whatever LUTs synthesis chooses to share.
        next_queued = ~Mux(write, 0, Mux(shift, tail[1], tail[0]))
        next_skid_valid = ~load & (skid_valid | shift)
        m.d.sync += shift.eq(next_queued & ~next_skid_valid)
        # Every entry and tail bit is two LUT levels: first, from flip-flops only,
        # "the tail bit / entry after a possible shift"; then the write on top.
        here = [lut_wire(m, Mux(shift, tail[k + 1] if k < depth else 0, tail[k]), f"here{k}")
                for k in range(depth + 1)]
        for k, entry in enumerate(entries):
            above = entries[k + 1] if k + 1 < depth else 0
            moved = lut_wire(m, Mux(shift, above, entry), f"moved{k}")
            m.d.sync += entry.eq(Mux(write & here[k], Value.cast(self.i.payload), moved))
        for k in range(depth + 1):
            # written: the tail moves up (the bit below's "here"); else it shifts
            m.d.sync += tail[k].eq(Mux(write, here[k - 1] if k > 0 else 0, here[k]))

        # output and skid registers: the output loads when it is empty or taken,
        # from the skid register if that holds a result, else from the queue's head;
        # a head that leaves while the output is held goes to the skid register
        with m.If(load):
            m.d.sync += [out.eq(Mux(skid_valid, skid, entries[0])),
                         out_valid.eq(skid_valid | queued),
                         skid_valid.eq(0)]
        with m.Elif(shift):
            m.d.sync += [skid.eq(entries[0]), skid_valid.eq(1)]
        m.d.comb += [self.o.valid.eq(out_valid), self.o.payload.eq(out)]
        return m
