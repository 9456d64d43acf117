"""Credit-based ready for a pipeline that never stalls.

The ``Inference`` pipeline has no enable: whatever it accepts comes out ``latency``
cycles later, ready or not, into a buffer with no full check. Its input may
therefore accept a sample only while the samples in flight plus the results waiting
are fewer than the buffer holds. This counter watches both handshakes and says so.
"""

from __future__ import annotations

from amaranth import Cat, Module, Mux, ResetSignal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .lut_level import LutLevel
from .reset import control_register, reset_register

__all__ = ["CreditCounter"]


def _thermometer_step(m: Module, code, up, step, name: str):
    """The next value of a thermometer count (``len(code)`` flip-flops, bit i set while
    the count exceeds i): one up (``up``) or down, where ``step`` is high.

    Two LUT levels for any ``up`` of up to four inputs: first ``up ? below : above``
    per bit, then the choice between that and the bit itself (or a flip-flop enable).
    One expression for the whole count, so that it is one register assignment.
    """
    first = LutLevel(m, f"{name}_first_level")
    n = len(code)
    bits = []
    for i in range(n):
        below = code[i - 1] if i > 0 else 1
        above = code[i + 1] if i + 1 < n else 0
        moved = first.wire(Mux(up, below, above), f"{name}_moved{i}")
        bits.append(Mux(step, moved, code[i]))
    return Cat(*bits)


class CreditCounter(wiring.Component):
    """Samples accepted and not yet taken, as a thermometer code of ``capacity`` bits.

    The count is stepped a cycle late, from flip-flops only: ``came`` is last cycle's
    accept and ``moves`` whether last cycle's accept and take differed, so the
    count's enable is a flip-flop of its own (computed from ``moves``'s inputs, it was
    two LUT levels in front of an enable net of ``capacity`` flip-flops: the iCE40
    critical path of the default digits model). ``i_ready`` adds that pending step
    back in: one LUT of four flip-flops. Exact: the same ready as an up-to-date count.
    ``i_ready`` is also low while reset is held (a sample taken then would vanish
    with the pipeline); that adds the reset input as a second LUT level on the port.
    The registers reset through :func:`reset_register`, so that a 4-state simulator
    with reset held from time 0 sees them cleared.

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
    came, moves : Signal(1)
        Last cycle's accept, and whether last cycle's accept and take differed (the
        step still to apply; visible to the formal proof).
    """

    def __init__(self, capacity: int):
        if capacity < 2:
            raise ValueError(f"capacity = {capacity}: expected >= 2")
        self.capacity = capacity
        self.held = control_register(capacity, "held")
        self.came = control_register(1, "came")
        self.moves = control_register(1, "moves")
        super().__init__({"i_valid": In(1), "i_ready": Out(1),
                          "o_valid": In(1), "o_ready": In(1)})

    def elaborate(self, platform):
        m = Module()
        held = self.held
        came, moves = self.came, self.moves
        accept = self.i_valid & self.i_ready
        reset_register(m, came, accept)
        reset_register(m, moves, accept ^ (self.o_valid & self.o_ready))
        # full once last cycle's step is applied: took one (moves & ~came) never fills
        full = Mux(moves, Mux(came, held[-2], 0), held[-1])
        m.d.comb += self.i_ready.eq(~full & ~ResetSignal(allow_reset_less=True))
        reset_register(m, held, _thermometer_step(m, held, came, moves, "held"))
        return m
