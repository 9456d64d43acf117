"""ResultBuffer alone: order, no loss, its latency, its thermometer count and its
LFSR addresses."""

import numpy as np
import pytest
from amaranth import unsigned

from lutmesh.hdl.result_buffer import _TAPS, ResultBuffer, lfsr_bits

from hdl_bench import run_simulation


def run_buffer(capacity, n, write_p, ready_p, seed, *, writer_capacity=None):
    """Write ``n`` numbered results at random times, never holding more than
    ``writer_capacity`` (default: the buffer's capacity) unread; read at random."""
    dut = ResultBuffer(unsigned(8), capacity)
    limit = capacity if writer_capacity is None else writer_capacity
    rng = np.random.default_rng(seed)
    got, invariant = [], []

    async def bench(ctx):
        written = 0
        for _ in range(40 * n + 100):
            held = written - len(got)
            write = written < n and held < limit and rng.random() < write_p
            ready = rng.random() < ready_p
            ctx.set(dut.i.valid, write)
            ctx.set(dut.i.payload, written % 256)
            ctx.set(dut.o.ready, ready)
            taken = ctx.get(dut.o.valid) and ready
            payload = ctx.get(dut.o.payload)
            await ctx.tick()
            if write:
                written += 1
            if taken:
                got.append(payload)
            if len(got) == n:
                return
            # the count is a thermometer code, and the buffer holds at most one result
            # while the output register is empty (it is read on the next edge)
            count = f"{ctx.get(dut.held):0{capacity}b}"
            invariant.append("10" not in count and
                             (ctx.get(dut.out_valid) or count.count("1") <= 1))

    run_simulation(dut, bench)
    return got, invariant


@pytest.mark.parametrize("capacity", [2, 3, 4, 7, 27])
@pytest.mark.parametrize("write_p, ready_p", [(1.0, 1.0), (0.9, 0.3), (0.3, 0.9), (0.7, 0.6)])
def test_every_result_comes_out_once_in_order(capacity, write_p, ready_p):
    n = 300
    got, invariant = run_buffer(capacity, n, write_p, ready_p, seed=capacity)
    assert got == [k % 256 for k in range(n)]
    assert all(invariant)


def test_a_writer_that_overfills_it_loses_results():
    """The check above can fail: one result more than the capacity in flight is lost."""
    got, _ = run_buffer(4, 200, 1.0, 0.2, seed=1, writer_capacity=5)
    assert got != [k % 256 for k in range(len(got))] or len(got) < 200


def test_a_result_is_offered_after_two_edges():
    dut = ResultBuffer(unsigned(8), 5)
    seen = []

    async def bench(ctx):
        ctx.set(dut.o.ready, 1)
        ctx.set(dut.i.valid, 1)
        ctx.set(dut.i.payload, 42)
        await ctx.tick()
        ctx.set(dut.i.valid, 0)
        for _ in range(4):
            seen.append(ctx.get(dut.o.valid))
            await ctx.tick()

    run_simulation(dut, bench)
    # after the write edge: not yet; after the next edge: offered
    assert seen[:2] == [0, 1] and ResultBuffer.LATENCY == 2


def test_capacity_below_two_is_refused():
    with pytest.raises(ValueError, match="capacity = 1"):
        ResultBuffer(unsigned(4), 1)


@pytest.mark.parametrize("n", sorted(_TAPS))
def test_each_lfsr_visits_every_state_but_all_ones_from_zero(n):
    a, b = _TAPS[n]
    state, seen = 0, []
    while state not in seen:
        seen.append(state)
        feedback = 1 ^ (state >> (a - 1) & 1) ^ (state >> (b - 1) & 1)
        state = (state << 1 | feedback) & (2 ** n - 1)
    assert state == 0 and len(seen) == 2 ** n - 1 and 2 ** n - 1 not in seen


def test_the_ring_has_a_place_for_every_result_it_can_hold():
    assert [lfsr_bits(places) for places in (1, 3, 4, 26, 31, 32, 127, 128)] == \
        [2, 2, 3, 5, 5, 6, 7, 9]
