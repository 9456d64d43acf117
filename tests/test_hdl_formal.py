"""Formal proof (k-induction, SymbiYosys from PyPI) of the stream contract of the core's
control path: a valid pipeline of ``PIPE`` stages (as ``Inference`` has, its data a
symbolic sequence number), ``CreditCounter`` and ``ResultBuffer``, driven by
unconstrained ``i.valid``, ``o.ready`` and reset.

Proved: outputs come out in order, each exactly once (the payload is the input's
sequence number: nothing lost, duplicated or reordered); ``i.ready`` is high whenever
fewer than ``capacity`` results are accepted and not taken (so never low on a stream
that takes every result); ``i.ready`` is low while reset is held, ``o.valid`` low
after a reset edge. The helper assertions below are the invariants that make the
induction step go through (the buffer's one-hot tail, the thermometer count).
"""

import pytest
from amaranth import Cat, ClockDomain, Const, Elaboratable, Module, Signal
from amaranth.hdl import Assert, Assume, Cover
from amaranth.hdl._ast import AnySeq

from lutmesh.hdl.credits import CreditCounter
from lutmesh.hdl.result_buffer import ResultBuffer, lfsr_step

from formal_bench import run_sby

pytestmark = pytest.mark.slow

PIPE = 2  # pipeline stages in front of the buffer (the core has 1 + layers + readout)
SEQ = 4  # bits of the sequence number (more than the capacity can hold)


def _popcount(bits):
    return sum((bits[i] for i in range(len(bits))), Const(0, 4))


class StreamSpec(Elaboratable):
    """The core's control path with its contract as assertions.

    ``credit_capacity`` other than the buffer's capacity is a seeded bug.
    """

    def __init__(self, credit_capacity=None, full_rate=False):
        self.capacity = PIPE + ResultBuffer.LATENCY + 1
        self.credit_capacity = credit_capacity or self.capacity
        self.full_rate = full_rate
        self.cd = ClockDomain("sync")

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = cd = self.cd
        i_valid, o_ready, rst = AnySeq(1), AnySeq(1), AnySeq(1)
        m.d.comb += cd.rst.eq(rst)
        m.submodules.credits = credits = CreditCounter(self.credit_capacity)
        m.submodules.buffer = buffer = ResultBuffer(SEQ, self.capacity)
        sent, taken = Signal(SEQ), Signal(SEQ)  # accepted and taken, reset with the core
        valid = Signal(PIPE)
        data = [Signal(SEQ, name=f"data{k}") for k in range(PIPE)]
        accept = i_valid & credits.i_ready
        take = buffer.o.valid & o_ready
        m.d.comb += [credits.i_valid.eq(i_valid), credits.o_valid.eq(buffer.o.valid),
                     credits.o_ready.eq(o_ready), buffer.o.ready.eq(o_ready),
                     buffer.i.valid.eq(valid[-1]), buffer.i.payload.eq(data[-1])]
        m.d.sync += [valid.eq(Cat(accept, valid[:-1])), data[0].eq(sent),
                     sent.eq(sent + accept), taken.eq(taken + take)]
        m.d.sync += [data[k].eq(data[k - 1]) for k in range(1, PIPE)]
        if self.full_rate:  # a consumer that takes every result: i.ready is never low
            m.d.comb += Assume(o_ready)
            with m.If(~rst):
                m.d.comb += Assert(credits.i_ready)
        self._contract(m, credits, buffer, rst, sent, taken, valid, data)
        return m

    def _contract(self, m, credits, buffer, rst, sent, taken, valid, data):
        held = Signal(SEQ)  # accepted and not taken
        m.d.comb += held.eq(sent - taken)
        after_reset = Signal()  # a reset edge happened (registers hold their reset values)
        m.d.sync += after_reset.eq(rst)
        with m.If(rst):
            m.d.comb += Assert(~credits.i_ready)
        with m.If(after_reset):
            m.d.comb += [Assert(~buffer.o.valid), Assert(held == 0)]
        with m.Elif(~rst):
            m.d.comb += Assert(held <= self.capacity)  # no result lost in a full buffer
            m.d.comb += Assert(credits.i_ready == (held < self.capacity))
            with m.If(buffer.o.valid):
                m.d.comb += Assert(buffer.o.payload == taken)  # in order, each once
            m.d.comb += Cover(held == self.capacity)
        self._invariants(m, credits, buffer, valid, data, held, taken, after_reset)

    def _invariants(self, m, credits, buffer, valid, data, held, taken, after_reset):
        count = credits.held  # thermometer, one step behind
        m.d.comb += [Assert(~count[k + 1] | count[k]) for k in range(len(count) - 1)]
        up, down = credits.moves & credits.came, credits.moves & ~credits.came
        m.d.comb += Assert(_popcount(count) + up == held + down)
        m.d.comb += Assert(credits.came == valid[0])
        queue = buffer.held  # thermometer: results in the ring and the output register
        m.d.comb += [Assert(~queue[k + 1] | queue[k]) for k in range(len(queue) - 1)]
        m.d.comb += Assert(buffer.out_valid | ~queue[1])  # an empty output is refilled
        m.d.comb += Assert(~buffer.out_valid | queue[0])
        in_buffer = _popcount(queue)
        m.d.comb += Assert(held == _popcount(valid) + in_buffer)
        in_ring = Signal(4)
        m.d.comb += in_ring.eq(in_buffer - buffer.out_valid)
        # the ring only reads its head while it holds a result, and a write never lands
        # there then (what the memory's no_rw_check attribute promises synthesis)
        with m.If(in_ring != 0):
            m.d.comb += Assert(buffer.write_addr != buffer.read_addr)
        # the tail is the head stepped once per result in the ring (never from the
        # LFSR's all-ones state, which steps to itself), and the data: every result
        # held is the sequence number its place says
        m.d.comb += Assert(~buffer.read_addr.all())
        addr = buffer.read_addr
        for k in range(len(queue)):
            with m.If(in_ring == k):
                m.d.comb += Assert(buffer.write_addr == addr)
            if k + 1 < len(queue):
                peek = buffer.ring.read_port(domain="comb")
                m.d.comb += peek.addr.eq(addr)
                with m.If(in_ring > k):
                    m.d.comb += Assert(peek.data == (taken + buffer.out_valid + k)[:SEQ])
            addr = lfsr_step(addr)
        for k in range(PIPE):
            with m.If(valid[k]):
                later = _popcount(valid[k + 1:]) if k + 1 < PIPE else 0
                m.d.comb += Assert(data[k] == (taken + in_buffer + later)[:SEQ])


def prove(spec, work, mode="prove"):
    ok, log = run_sby(spec, spec.cd.clk, work, mode=mode)
    return ok, log


def test_stream_contract_is_proved_by_induction(tmp_path):
    ok, log = prove(StreamSpec(), tmp_path)
    assert ok and "successful proof by k-induction" in log, log[-3000:]


def test_ready_is_never_low_at_full_rate(tmp_path):
    ok, log = prove(StreamSpec(full_rate=True), tmp_path)
    assert ok and "successful proof by k-induction" in log, log[-3000:]


def test_a_full_buffer_is_reachable(tmp_path):
    """The contract is not vacuous: the buffer does fill (``Cover``)."""
    ok, log = prove(StreamSpec(), tmp_path, mode="cover")
    assert ok and "reached cover statement" in log, log[-3000:]


def test_a_credit_count_off_by_one_fails_the_proof(tmp_path):
    """One credit more than the buffer holds: a result is overwritten in a full buffer."""
    ok, log = prove(StreamSpec(credit_capacity=PIPE + ResultBuffer.LATENCY + 2), tmp_path)
    assert not ok and "DONE (FAIL" in log and "failed assertion" in log, log[-3000:]
