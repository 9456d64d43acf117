"""The pipeline stages: thermometer encoder and LUT layers.

Every stage is a :class:`~amaranth.lib.wiring.Component` with a flat bit-vector
input ``i`` and output ``o``. There is no clock enable: ``Inference``'s pipeline
never stalls (back-pressure is absorbed by its output buffer). A registered stage
captures its result on every clock; an unregistered one is purely combinational, so
the same component serves "a register after every layer" and "every N layers".
"""

from __future__ import annotations

import numpy as np
from amaranth import Cat, Const, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..names import node_names
from ..netlist import LutLayer, ThermometerEncoder

__all__ = ["Encoder", "LutLayerStage"]


def drive(m: Module, target: Signal, value, registered: bool) -> None:
    """``target = value``: captured on the clock edge, or combinational."""
    if registered:
        m.d.sync += target.eq(value)
    else:
        m.d.comb += target.eq(value)


class Encoder(wiring.Component):
    """Quantised feature integers to thermometer bits: one comparator per threshold.

    Parameters
    ----------
    encoder : ThermometerEncoder
    feature_bits : sequence of int
        Width of each feature in the flat input vector (feature 0 in the low bits).
    registered : bool
        Capture the bits in a register (one pipeline stage).

    Attributes
    ----------
    i : In(sum(feature_bits))
    o : Out(encoder.n_bits)
    """

    def __init__(self, encoder: ThermometerEncoder, feature_bits, *, registered: bool = True):
        self._encoder = encoder
        self._feature_bits = [int(b) for b in feature_bits]
        self._registered = registered
        super().__init__({
            "i": In(sum(self._feature_bits)),
            "o": Out(encoder.n_bits),
        })

    # Up to this width a comparison is written as its truth table, which synthesis
    # maps to one or two LUTs; a ``>=`` operator would become a carry chain that
    # occupies a logic cell per bit. Wider features keep the carry chain.
    TABLE_MAX_WIDTH = 5

    @classmethod
    def compare(cls, value, width: int, threshold: int):
        """``value >= threshold`` in the cheapest form for the feature's width."""
        if width > cls.TABLE_MAX_WIDTH:
            return value >= threshold
        table = sum(1 << v for v in range(threshold, 1 << width))
        return Const(table, 1 << width).bit_select(value, 1)

    def elaborate(self, platform):
        m = Module()
        bits = []
        offset = 0
        for f, width in enumerate(self._feature_bits):
            value = self.i[offset:offset + width]
            offset += width
            for t in self._encoder.thresholds[f].tolist():
                bit = Signal(name=f"x{f}_ge{t}", reset_less=True)
                drive(m, bit, self.compare(value, width, t), self._registered)
                bits.append(bit)
        m.d.comb += self.o.eq(Cat(*bits))
        return m


class LutLayerStage(wiring.Component):
    """One netlist layer: every node a constant truth table indexed by its inputs.

    Unused inputs (-1) are left out and the table is reduced to the used ones, so
    synthesis sees a node with ``arity <= LUT size`` as exactly one LUT.

    Attributes
    ----------
    i : In(n_prev)
    o : Out(layer.n_nodes)
    """

    def __init__(self, layer: LutLayer, index: int, n_prev: int, *, registered: bool = True):
        self._layer = layer
        self._index = index
        self._registered = registered
        super().__init__({"i": In(n_prev), "o": Out(layer.n_nodes)})

    @staticmethod
    def reduced_table(inputs: np.ndarray, table: np.ndarray) -> tuple[list[int], int]:
        """Used input indices and the table over them alone, as an integer."""
        used = [k for k in range(len(inputs)) if inputs[k] >= 0]
        value = 0
        for a in range(1 << len(used)):
            full = sum(((a >> j) & 1) << k for j, k in enumerate(used))
            value |= int(table[full]) << a
        return [int(inputs[k]) for k in used], value

    def elaborate(self, platform):
        m = Module()
        layer = self._layer
        outs = []
        for n, name in enumerate(node_names(layer, self._index)):
            sources, table = self.reduced_table(layer.inputs[n], layer.tables[n])
            node = Signal(name=name, reset_less=True)
            if sources:
                value = Const(table, 1 << len(sources)).bit_select(
                    Cat(*(self.i[s] for s in sources)), 1)
            else:
                value = Const(table & 1, 1)
            drive(m, node, value, self._registered)
            outs.append(node)
        m.d.comb += self.o.eq(Cat(*outs))
        return m
