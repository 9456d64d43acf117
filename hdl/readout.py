"""Readout: per-class popcount and argmax, as a pipelined tree.

A class's score is the popcount of its group of last-layer nodes; the winner is the
highest score, the lowest class index on a tie. Both are binary trees of small
operations (a LUT counter per four bits, then an adder per pair; a compare per pair,
then a select per pair) so no single level is more than one short carry chain or one
LUT deep; registers sit between tree levels, ``stages`` of them spread evenly, the last
one being the output register.

The argmax compare and select are separate levels on purpose: together they were the
critical path of the whole design (a 7-bit compare feeding a mux feeding the next
compare: 74.8 MHz on an iCE40 UP5K); apart, a level is a compare or a mux.

Tried and not kept: a popcount whose adders each take one of the group's bits on their
carry-in (a carry-chain cell is then a whole full adder; leaves of three bits). Yosys
counted 28% fewer readout LUT4s on the digits default (835 against 1,165; 2,197
against 2,527 in all), but place and route used *more* logic cells (3,689 against
3,369) at 88.2 MHz against 100.1: every adder then fills its width, so its top bit is
the chain's carry-out, which nextpnr brings out through an extra cell with its flip-flop
in yet another, and the bits waiting for their carry-in sit in flip-flops of their own.
"""

from __future__ import annotations

import math

from amaranth import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ..netlist import Readout

__all__ = ["ReadoutTree", "readout_levels"]


COUNTER_INPUTS = 4  # bits counted by the first popcount level, one LUT per sum bit


def _lut(bits: list, function):
    """One bit computed by table lookup: ``function`` of the bits (LSB first).

    Written as a constant indexed by the inputs, which synthesis maps to LUTs and
    never to a carry chain: on an iCE40 a carry chain's output must go back through a
    logic cell and the general routing, which made a 7-bit compare ~14 ns.
    """
    n = len(bits)
    table = sum(1 << p for p in range(1 << n) if function([(p >> k) & 1 for k in range(n)]))
    return Const(table, 1 << n).bit_select(Cat(*bits), 1)


def _count_bits(bits: list):
    """Popcount of up to four bits as a small number: each sum bit is one LUT4.

    Two levels of a binary adder tree in one: ~0.75 LUT per input bit instead of
    ~1.75, and no carry chain (which takes a logic cell per bit on iCE40).
    """
    if len(bits) == 1:
        return bits[0]
    width = len(bits).bit_length()
    return Cat(*[_lut(bits, lambda v, k=k: (sum(v) >> k) & 1) for k in range(width)])


def _add_counts(a, a_max: int, b, b_max: int):
    """``a + b`` for two counts no larger than ``a_max`` and ``b_max``, as
    ``(sum, largest sum)``, the sum exactly as wide as its largest value needs.

    When the sum needs one bit more than the wider operand, that top bit is a
    carry chain's carry-out, which on an iCE40 cannot reach a flip-flop without an
    extra logic cell and a general route (measured: ~4 ns of an 11.9 ns critical
    path). If neither count can exceed half the range of that operand width, the
    sum overflows it only when both are exactly half, i.e. when both top bits are
    set: the top bit is then one AND gate, and the chain stays inside its width.
    """
    total = a_max + b_max
    width = max(len(a), len(b))
    if total.bit_length() <= width:
        return (a + b)[:total.bit_length()], total
    half = 1 << (width - 1)
    if a_max <= half and b_max <= half:
        return Cat((a + b)[:width], a[width - 1] & b[width - 1]), total
    return a + b, total


COMPARE_CHUNK = 2  # score bits compared per LUT4 (two bits of each side)


def compare_levels(width: int) -> int:
    """Levels of the LUT-only ``a >= b`` tree for ``width``-bit scores."""
    chunks = math.ceil(width / COMPARE_CHUNK)
    return 1 + (math.ceil(math.log2(chunks)) if chunks > 1 else 0)


def _bits_of(value, width: int) -> list:
    return [value[k] if k < len(value) else Const(0, 1) for k in range(width)]


def _ge(v) -> int:
    """``a >= b`` for ``v`` = [a bits..., b bits...] of one chunk, LSB first."""
    half = len(v) // 2
    return int(sum(b << k for k, b in enumerate(v[:half]))
               >= sum(b << k for k, b in enumerate(v[half:])))


def _chunk_compares(a: list, b: list, width: int) -> list[tuple]:
    """First compare level of one pair: per chunk of score bits (LSB chunk first), one
    ``a >= b`` LUT when the scores fit one chunk, else (greater, equal) LUTs."""
    chunks = []
    for k in range(0, width, COMPARE_CHUNK):
        v = a[k:k + COMPARE_CHUNK] + b[k:k + COMPARE_CHUNK]
        if width <= COMPARE_CHUNK:
            chunks.append((_lut(v, _ge),))
        else:
            h = len(v) // 2
            chunks.append((_lut(v, lambda x, h=h: _ge(x) and x[:h] != x[h:]),
                           _lut(v, lambda x, h=h: x[:h] == x[h:])))
    return chunks


def _merge_chunks(chunks: list[tuple], last: bool) -> list[tuple]:
    """One more compare level: neighbouring chunks' (greater, equal) merged pairwise;
    on the last level into the single ``a >= b`` bit, ``gh | eh & (gl | el)``."""
    merged = []
    for j in range(0, len(chunks), 2):
        if j + 1 == len(chunks):
            merged.append(chunks[j])
            continue
        (gl, el), (gh, eh) = chunks[j], chunks[j + 1]
        if last:
            merged.append((_lut([gh, eh, gl, el], lambda x: x[0] or (x[1] and (x[2] or x[3]))),))
        else:
            merged.append((_lut([gh, eh, gl], lambda x: x[0] or (x[1] and x[2])),
                           _lut([eh, el], lambda x: x[0] and x[1])))
    return merged


class _Levels:
    """The tree's levels in order, each closed by :meth:`settle`: registered where a
    pipeline register belongs, else a named wire."""

    def __init__(self, m: Module, register_after: set[int]):
        self.m, self.register_after, self.level = m, register_after, 0
        self.carried = None  # every class's score, carried along the argmax (``with_scores``)

    def settle(self, values: list, names: list[str]) -> list:
        """Close a tree level: register the values if a register belongs here.

        Unregistered levels still get named wires: a value feeds both a compare
        and a select, and without a wire the expression would be copied into
        every use, growing exponentially with the levels between registers.
        """
        self.level += 1
        registered = self.level in self.register_after
        out = []
        for value, name in zip(values, names):
            if isinstance(value, Const):  # a class id not yet selected: nothing to hold
                out.append(value)
                continue
            if registered:
                sig = Signal(unsigned(len(value)), name=f"ro_s{self.level}_{name}",
                             reset_less=True)
                self.m.d.sync += sig.eq(value)
            else:
                sig = Signal(unsigned(len(value)), name=f"ro_w{self.level}_{name}")
                self.m.d.comb += sig.eq(value)
            out.append(sig)
        return out

    def close(self, values: list, names: list[str]) -> list:
        """Settle an argmax level, carrying every class's score along when asked to."""
        n = len(values)
        if self.carried is not None:
            values = values + self.carried
            names = names + [f"score{c}" for c in range(len(self.carried))]
        values = self.settle(values, names)
        if self.carried is not None:
            self.carried = values[n:]
        return values[:n]


def readout_levels(readout: Readout) -> tuple[int, int]:
    """Levels of the popcount tree (the first counts 4 bits) and of the argmax tree.

    Every argmax round is a LUT-only compare tree (:func:`compare_levels`) and then
    a select level.
    """
    biggest = max(g.size for g in readout.groups)
    if biggest <= 1:
        pop = 0
    else:
        pop = 1 + (math.ceil(math.log2(math.ceil(biggest / COUNTER_INPUTS)))
                   if biggest > COUNTER_INPUTS else 0)
    rounds = math.ceil(math.log2(readout.n_classes))
    return pop, rounds * (compare_levels(max(1, biggest.bit_length())) + 1)


class ReadoutTree(wiring.Component):
    """Popcount + argmax tree with ``stages`` pipeline registers.

    Parameters
    ----------
    readout : Readout
    n_last : int
        Width of the last layer's output vector.
    stages : int or None
        Registers in the tree (1 .. tree levels). Default: one per level: a level is
        one LUT counter, adder, compare or select, which is what an iCE40 clocks at
        ~100 MHz; the registers share logic cells with the LUTs that feed them.
    with_scores : bool
        Also output every class's score (carried through the pipeline).

    Attributes
    ----------
    i : In(n_last)
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
        members = {"i": In(n_last), "cls": Out(self.class_width)}
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
        levels = _Levels(m, self._register_after())
        scores = self._popcount(levels)
        if self._with_scores:
            levels.carried = list(scores)
        m.d.comb += self.cls.eq(self._argmax(levels, scores))
        if self._with_scores:
            for c, s in enumerate(levels.carried):
                m.d.comb += self.scores[c].eq(s)
        return m

    def _popcount(self, levels: _Levels) -> list:
        """Per class, a list of (partial sum, its largest value), halved every level."""
        partial = [[(self.i[int(n)], 1) for n in g] for g in self._readout.groups]
        for lvl in range(self._levels[0]):
            flat, names, bounds, sizes = [], [], [], []
            for c, parts in enumerate(partial):
                if lvl == 0:
                    groups = [parts[j:j + COUNTER_INPUTS]
                              for j in range(0, len(parts), COUNTER_INPUTS)]
                    summed = [(_count_bits([bit for bit, _ in group]), len(group))
                              for group in groups]
                else:
                    summed = [_add_counts(*parts[j], *parts[j + 1]) if j + 1 < len(parts)
                              else parts[j] for j in range(0, len(parts), 2)]
                sizes.append(len(summed))
                flat += [value for value, _ in summed]
                bounds += [bound for _, bound in summed]
                names += [f"pop{c}_{j}" for j in range(len(summed))]
            settled = iter(zip(levels.settle(flat, names), bounds))
            partial = [[next(settled) for _ in range(n)] for n in sizes]
        return [parts[0][0] for parts in partial]

    def _argmax(self, levels: _Levels, scores: list):
        """(class id, score) pairs, halved every round; the left (lower ids) wins ties.
        A round is a compare tree (left >= right, one bit per pair), then a select."""
        cands = [(Const(c, self.class_width), scores[c]) for c in range(len(scores))]
        cmp_levels = compare_levels(self.score_width)
        for _ in range(self._levels[1] // (cmp_levels + 1)):
            pairs = [(cands[j], cands[j + 1]) for j in range(0, len(cands) - 1, 2)]
            odd = len(cands) % 2 == 1
            held = [c for pair in pairs for c in pair] + ([cands[-1]] if odd else [])
            lefts, held = self._compare(levels, pairs, held, cmp_levels)
            cands = self._select(levels, lefts, held, odd)
        return cands[0][0]

    def _compare(self, levels: _Levels, pairs: list, held: list, cmp_levels: int):
        """The compare levels of one round; the candidates are held beside them."""
        width = self.score_width
        partial = [_chunk_compares(_bits_of(sa, width), _bits_of(sb, width), width)
                   for (_, sa), (_, sb) in pairs]
        for lvl in range(cmp_levels):
            if lvl > 0:
                partial = [_merge_chunks(chunks, lvl == cmp_levels - 1) for chunks in partial]
            values, names, shape = [], [], []
            for p, chunks in enumerate(partial):
                shape.append([len(c) for c in chunks])
                for j, chunk in enumerate(chunks):
                    values += list(chunk)
                    kinds = ("ge",) if len(chunk) == 1 else ("gt", "eq")
                    names += [f"arg_cmp{p}_{j}_{kind}" for kind in kinds]
            n_cmp = len(values)
            for j, (ia, sa) in enumerate(held):
                values += [ia, sa]
                names += [f"arg_id{j}", f"arg_score{j}"]
            values = levels.close(values, names)
            rest = values[n_cmp:]
            held = [(rest[2 * j], rest[2 * j + 1]) for j in range(len(rest) // 2)]
            flat = iter(values[:n_cmp])
            partial = [[tuple(next(flat) for _ in range(size)) for size in sizes]
                       for sizes in shape]
        return [chunks[0][0] for chunks in partial], held

    def _select(self, levels: _Levels, lefts: list, held: list, odd: bool) -> list:
        """The select level of one round: each pair's winner, the odd one passed on."""
        values, names = [], []
        for j, left in enumerate(lefts):
            (ia, sa), (ib, sb) = held[2 * j], held[2 * j + 1]
            values += [Mux(left, ia, ib), Mux(left, sa, sb)]
            names += [f"arg_id{j}", f"arg_score{j}"]
        if odd:
            values += list(held[-1])
            names += [f"arg_id{len(lefts)}", f"arg_score{len(lefts)}"]
        values = levels.close(values, names)
        return [(values[2 * j], values[2 * j + 1]) for j in range(len(values) // 2)]
