"""Credit-based ready for a pipeline that never stalls.

The ``Inference`` pipeline has no enable: whatever it accepts comes out ``latency``
cycles later, ready or not, into a buffer with no full check. Its input may
therefore accept a sample only while the samples in flight plus the results waiting
are fewer than the buffer holds. This counter watches both handshakes and says so.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .lut_level import LutLevel

__all__ = ["CreditCounter"]


def _thermometer_step(m: Module, code: Signal, up, step, name: str) -> None:
    """Move a thermometer count (``len(code)`` flip-flops, bit i set while the count
    exceeds i) one up (``up``) or down, where ``step`` is high.

    Two LUT levels for any ``up`` of up to four inputs: first ``up ? below : above``
    per bit, then the choice between that and the bit itself (or a flip-flop enable).
    """
    first = LutLevel(m, f"{name}_first_level")
    n = len(code)
    for i in range(n):
        below = code[i - 1] if i > 0 else 1
        above = code[i + 1] if i + 1 < n else 0
        moved = first.wire(Mux(up, below, above), f"{name}_moved{i}")
        m.d.sync += code[i].eq(Mux(step, moved, code[i]))


class CreditCounter(wiring.Component):
    """Samples accepted and not yet taken, as a thermometer code of ``capacity`` bits.

    The count is stepped a cycle late, from flip-flops only: ``came`` is last cycle's
    accept and ``moves`` whether last cycle's accept and take differed, so the
    count's enable is a flip-flop of its own (computed from ``moves``'s inputs, it was
    two LUT levels in front of an enable net of ``capacity`` flip-flops: the iCE40
    critical path of the default digits model). ``i_ready`` adds that pending step
    back in: one LUT of four flip-flops. Exact: the same ready as an up-to-date count.

    Parameters
    ----------
    capacity : int
        Results the downstream buffer holds; ``i_ready`` is low while that many are
        accepted and not taken.

    Attributes
    ----------
    i_valid, i_ready : In(1), Out(1)
        The input stream's handshake (``i_ready`` is the counter's answer).
    o_valid, o_ready : In(1)
        The output stream's handshake.
    held : Signal(capacity)
        The count one cycle late (visible to testbenches).
    """

    def __init__(self, capacity: int):
        if capacity < 2:
            raise ValueError(f"capacity = {capacity}: expected >= 2")
        self.capacity = capacity
        self.held = Signal(capacity, name="held")
        super().__init__({"i_valid": In(1), "i_ready": Out(1),
                          "o_valid": In(1), "o_ready": In(1)})

    def elaborate(self, platform):
        m = Module()
        held = self.held
        came = Signal(name="came")
        moves = Signal(name="moves")
        accept = self.i_valid & self.i_ready
        m.d.sync += [came.eq(accept), moves.eq(accept ^ (self.o_valid & self.o_ready))]
        # full once last cycle's step is applied: took one (moves & ~came) never fills
        full = Mux(moves, Mux(came, held[-2], 0), held[-1])
        m.d.comb += self.i_ready.eq(~full)
        _thermometer_step(m, held, came, moves, "held")
        return m
