"""The output buffer of the ``Inference`` core: results wait here for the consumer.

The pipeline in front of it never stalls, so this buffer is what makes
back-pressure work: the core's credit counter guarantees it never overflows, and
it therefore has no full check. It is built for an iCE40 UP5K at 100 MHz, where
a register-to-register path has room for about two LUT levels and their routes;
every path here is at most two LUT4s deep, the first level being a module of its
own (:class:`LutLevel`) so that synthesis cannot make it deeper:

* ``o.valid`` and ``o.payload`` are flip-flops: an output register with a skid
  register behind it, so the queue sees a *registered* ready. Read out of a
  26-entry queue through a one-hot AND-OR, the payload was four LUT levels (the
  critical path of the default digits model, 15.1 ns, once the harness registered
  it);
* the queue shifts towards the output: its oldest entry is always entry 0, and a
  result is written at the tail, marked by a one-hot register (with a flag for
  "not empty" standing in for entry 0). Shift-in queues and rings need a 26-way read
  multiplexer instead.

A result written on one clock edge is offered after the second.
"""

from __future__ import annotations

from amaranth import Cat, Module, Mux, Shape, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .lut_level import LutLevel
from .reset import control_register, reset_register

__all__ = ["ResultBuffer"]


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
    queued, tail, shift, skid_valid : Signal
        Control state, visible to testbenches: whether the queue holds a result; the
        write position, one-hot over entries 1 up to the queue's depth (all zero:
        entry 0, or the queue is empty; the top bit: the queue is full); the
        queue-shifts flag and the skid register's valid.
    entries, skid : list of Signal, Signal
        The queue (entry 0 oldest) and the skid register (data, no reset; visible to
        the formal proof). Every register resets to 0:
        the iCE40 flow inverts a flip-flop that starts at 1, and that inverter is a
        LUT level of its own where it meets a module boundary. They reset through
        :func:`reset_register` (no ``x`` in 4-state simulation with reset held from
        time 0).
    """

    LATENCY = 2  # clock edges from a write to the result being offered (buffer empty)

    def __init__(self, layout, capacity: int):
        if capacity < 3:
            raise ValueError(f"capacity = {capacity}: expected >= 3")
        self._layout = layout
        self.capacity = capacity
        # one-hot: where the next result goes = how many wait (the top bit: full)
        self.queued = control_register(1, "queued")
        self.tail = control_register(capacity - 2, "tail")
        self.shift = control_register(1, "shift")
        self.skid_valid = control_register(1, "skid_valid")
        width = Shape.cast(layout).width
        self.entries = [Signal(width, name=f"entry{k}", reset_less=True)
                        for k in range(capacity - 2)]
        self.skid = Signal(width, name="skid", reset_less=True)
        super().__init__({
            "i": In(stream.Signature(layout, always_ready=True)),
            "o": Out(stream.Signature(layout)),
        })

    def elaborate(self, platform):
        m = Module()
        depth = self.capacity - 2  # the output and skid registers hold the other two
        width = Shape.cast(self._layout).width
        entries = self.entries
        queued, shift, skid_valid = self.queued, self.shift, self.skid_valid
        tail = [~queued] + list(self.tail)  # one-hot over entries 0 .. depth
        skid = self.skid
        out = Signal(width, name="out", reset_less=True)
        out_valid = control_register(1, "out_valid")

        write = self.i.valid
        first = LutLevel(m, "first_level")
        # Every register below is one LUT of at most four inputs, each a flip-flop, a
        # port or a ``first`` wire: two LUT levels from any flip-flop.
        load = self.o.ready | ~out_valid  # the output register is empty or taken
        # The queue's head leaves when the skid register is empty: a registered ready.
        # ``shift`` is always ``queued & ~skid_valid``, but a flip-flop of its own
        # (computed from both bits' next values), so nothing here waits for that AND.
        next_queued = first.wire(~Mux(write, 0, Mux(shift, tail[1], tail[0])), "next_queued")
        next_skid_valid = first.wire(~load & (skid_valid | shift), "next_skid_valid")
        reset_register(m, shift, next_queued & ~next_skid_valid)
        # first: "the tail bit / entry after a possible shift", and whether the write
        # lands here; then the write on top
        here = [first.wire(Mux(shift, tail[k + 1] if k < depth else 0, tail[k]), f"here{k}")
                for k in range(depth + 1)]
        for k, entry in enumerate(entries):
            above = entries[k + 1] if k + 1 < depth else 0
            moved = first.wire(Mux(shift, above, entry), f"moved{k}")
            written = first.wire(write & Mux(shift, tail[k + 1], tail[k]), f"written{k}")
            m.d.sync += entry.eq(Mux(written, Value.cast(self.i.payload), moved))
        # written: the tail moves up (the bit below's "here"); else it shifts
        reset_register(m, queued, next_queued)
        reset_register(m, self.tail, Cat(*(Mux(write, here[k - 1], here[k])
                                           for k in range(1, depth + 1))))

        # Output and skid registers: the output loads when it is empty or taken, from
        # the skid register if that holds a result, else from the queue's head; a head
        # that leaves while the output is held goes to the skid register.
        head = first.wire(Mux(skid_valid, skid, entries[0]), "head")
        to_skid = first.wire(shift & ~load, "to_skid")
        m.d.sync += [out.eq(Mux(load, head, out)), skid.eq(Mux(to_skid, entries[0], skid))]
        reset_register(m, out_valid, Mux(load, skid_valid | queued, out_valid))
        reset_register(m, skid_valid, next_skid_valid)
        m.d.comb += [self.o.valid.eq(out_valid), self.o.payload.eq(out)]
        return m
