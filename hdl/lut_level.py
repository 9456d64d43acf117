"""Logic that must be two LUT levels deep, whatever synthesis would rather do."""

from __future__ import annotations

from amaranth import Module, Signal, Value

__all__ = ["LutLevel"]


class LutLevel:
    """The first LUT level of some two-level logic, as a module of its own.

    Yosys's LUT mapper (ABC) knows nothing of routing: it builds three LUT levels
    where two would do whenever something else in the same module is that deep,
    and on an iCE40 UP5K every LUT level costs a route of 1.7-5 ns. Wires marked
    ``keep`` did not stop it: with them, 125 of the output buffer's 137 flip-flops were
    still three LUTs deep (``opt_dff`` folds the multiplexers around them into
    enables and ABC rebuilds the logic from there). Synthesised with hierarchy kept
    (as ``lutmesh report`` does), a module boundary is a hard cut: every function of
    at most four inputs here is one LUT, and logic of at most four inputs taken from
    these wires and flip-flops is one more. Board builds synthesise flattened, where
    this is only a grouping (their clock is 12-25 MHz).
    """

    def __init__(self, m: Module, name: str):
        self._module = Module()
        m.submodules[name] = self._module

    def wire(self, value, name: str) -> Signal:
        """``value`` (a function of at most four inputs per bit) as a first-level wire."""
        value = Value.cast(value)
        wire = Signal(len(value), name=name)
        self._module.d.comb += wire.eq(value)
        return wire
