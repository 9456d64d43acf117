"""Readout: per-class popcount and argmax, as a pipelined tree.

A class's score is the popcount of its group of last-layer nodes; the winner is the
highest score, the lowest class index on a tie. Both are binary trees of small
operations (a LUT counter per four bits, then an adder per pair, a
compare-and-select per pair) so no single stage is a long carry chain; registers sit between tree levels, ``stages`` of them spread
evenly, the last one being the output register.
"""

from __future__ import annotations

import math

from amaranth import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..netlist import Readout

__all__ = ["ReadoutTree", "readout_levels"]


COUNTER_INPUTS = 4  # bits counted by the first popcount level, one LUT per sum bit


def _count_bits(bits: list):
    """Popcount of up to four bits as a small number: each sum bit is one LUT4.

    Two levels of a binary adder tree in one: ~0.75 LUT per input bit instead of
    ~1.75, and no carry chain (which takes a logic cell per bit on iCE40).
    """
    if len(bits) == 1:
        return bits[0]
    index = Cat(*bits)
    width = len(bits).bit_length()
    out = []
    for k in range(width):
        table = sum(1 << p for p in range(1 << len(bits)) if (bin(p).count("1") >> k) & 1)
        out.append(Const(table, 1 << len(bits)).bit_select(index, 1))
    return Cat(*out)


def readout_levels(readout: Readout) -> tuple[int, int]:
    """Levels of the popcount tree (the first counts 4 bits) and of the argmax tree."""
    biggest = max(g.size for g in readout.groups)
    if biggest <= 1:
        pop = 0
    else:
        pop = 1 + (math.ceil(math.log2(math.ceil(biggest / COUNTER_INPUTS)))
                   if biggest > COUNTER_INPUTS else 0)
    return pop, math.ceil(math.log2(readout.n_classes))


class ReadoutTree(wiring.Component):
    """Popcount + argmax tree with ``stages`` pipeline registers.

    Parameters
    ----------
    readout : Readout
    n_last : int
        Width of the last layer's output vector.
    stages : int or None
        Registers in the tree (1 .. tree levels). Default: one per level: a level is
        one LUT counter, adder or compare-and-select, which is what an iCE40 clocks at
        ~100 MHz; the registers share logic cells with the LUTs that feed them.
    with_scores : bool
        Also output every class's score (carried through the pipeline).

    Attributes
    ----------
    i : In(n_last)
    en : In(1)
    cls : Out(class id width)
    scores : Out(ArrayLayout(score width, n_classes)), only ``with_scores``
    """

    def __init__(self, readout: Readout, n_last: int, *, stages: int | None = None,
                 with_scores: bool = False):
        pop, arg = readout_levels(readout)
        levels = pop + arg
        stages = max(1, levels) if stages is None else int(stages)
        if not 1 <= stages <= levels:
            raise ValueError(f"readout stages = {stages}: expected 1..{levels} for this readout")
        self._readout = readout
        self._levels = (pop, arg)
        self._stages = stages
        self._with_scores = with_scores
        self.score_width = max(1, max(g.size for g in readout.groups).bit_length())
        self.class_width = max(1, (readout.n_classes - 1).bit_length())
        members = {"i": In(n_last), "en": In(1), "cls": Out(self.class_width)}
        if with_scores:
            members["scores"] = Out(data.ArrayLayout(self.score_width, readout.n_classes))
        super().__init__(members)

    @property
    def latency(self) -> int:
        return self._stages

    def _register_after(self) -> set[int]:
        levels = sum(self._levels)
        return {round(levels * (s + 1) / self._stages) for s in range(self._stages)}

    def elaborate(self, platform):
        m = Module()
        pop_levels, arg_levels = self._levels
        reg_after = self._register_after()
        level = 0

        def settle(values, names):
            """Close a tree level: register the values if a register belongs here."""
            nonlocal level
            level += 1
            if level not in reg_after:
                return values
            out = []
            for value, name in zip(values, names):
                sig = Signal(unsigned(len(value)), name=f"ro_s{level}_{name}", reset_less=True)
                with m.If(self.en):
                    m.d.sync += sig.eq(value)
                out.append(sig)
            return out

        # popcount: per class, a list of partial sums, halved every level
        partial = [[self.i[int(n)] for n in g] for g in self._readout.groups]
        for lvl in range(pop_levels):
            flat, names = [], []
            nxt = []
            for c, parts in enumerate(partial):
                if lvl == 0:
                    summed = [_count_bits(parts[j:j + COUNTER_INPUTS])
                              for j in range(0, len(parts), COUNTER_INPUTS)]
                else:
                    summed = [parts[j] + parts[j + 1] if j + 1 < len(parts) else parts[j]
                              for j in range(0, len(parts), 2)]
                nxt.append(len(summed))
                flat += summed
                names += [f"pop{c}_{j}" for j in range(len(summed))]
            flat = settle(flat, names)
            partial, pos = [], 0
            for count in nxt:
                partial.append(flat[pos:pos + count])
                pos += count
        scores = [parts[0] for parts in partial]

        # argmax: (class id, score) pairs; the left (lower ids) wins ties
        cands = [(Const(c, self.class_width), scores[c]) for c in range(len(scores))]
        carried = list(scores)
        for _ in range(arg_levels):
            nxt = []
            for j in range(0, len(cands), 2):
                if j + 1 < len(cands):
                    (ia, sa), (ib, sb) = cands[j], cands[j + 1]
                    left = sa >= sb
                    nxt.append((Mux(left, ia, ib), Mux(left, sa, sb)))
                else:
                    nxt.append(cands[j])
            values = [v for pair in nxt for v in pair]
            names = [f"{kind}{j}" for j in range(len(nxt)) for kind in ("arg_id", "arg_score")]
            if self._with_scores:
                values += carried
                names += [f"score{c}" for c in range(len(carried))]
            values = settle(values, names)
            cands = [(values[2 * j], values[2 * j + 1]) for j in range(len(nxt))]
            if self._with_scores:
                carried = values[2 * len(nxt):]
        m.d.comb += self.cls.eq(cands[0][0])
        if self._with_scores:
            for c, s in enumerate(carried):
                m.d.comb += self.scores[c].eq(s)
        return m
