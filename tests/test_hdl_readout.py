"""ReadoutTree alone: popcount + LUT-only argmax against numpy, ties included."""

import numpy as np
import pytest

from lutmesh.hdl.readout import ReadoutTree, compare_levels, readout_levels
from lutmesh.netlist import Readout

from hdl_bench import run_simulation


def run_readout(readout, n_last, vectors, stages=None):
    dut = ReadoutTree(readout, n_last, stages=stages, with_scores=True)
    got = []

    async def bench(ctx):
        for t in range(len(vectors) + dut.latency):
            if t < len(vectors):
                ctx.set(dut.i, int("".join(map(str, vectors[t][::-1])), 2))
            await ctx.tick()
            if t + 1 >= dut.latency:
                got.append((ctx.get(dut.cls), [ctx.get(s) for s in dut.scores]))

    run_simulation(dut, bench)
    return got[:len(vectors)]


@pytest.mark.parametrize("n_classes, group", [(2, 1), (3, 3), (5, 4), (7, 9), (10, 64), (3, 130)])
def test_argmax_equals_numpy_lowest_class_on_ties(n_classes, group):
    rng = np.random.default_rng(n_classes * 1000 + group)
    sizes = [group if c % 2 == 0 else max(1, group - c) for c in range(n_classes)]
    n_last = sum(sizes)
    order = rng.permutation(n_last)
    groups, pos = [], 0
    for size in sizes:
        groups.append(order[pos:pos + size])
        pos += size
    readout = Readout(tuple(groups))
    # biased bits make near-equal and equal scores common, so the tie rule is exercised
    vectors = (rng.random((60, n_last)) < rng.uniform(0.05, 0.95, (60, 1))).astype(int)
    vectors[:10] = 0
    vectors[10:20] = 1
    scores = np.stack([vectors[:, g].sum(axis=1) for g in groups], axis=1)
    expect = scores.argmax(axis=1)  # numpy's argmax takes the first maximum
    got = run_readout(readout, n_last, vectors)
    assert [c for c, _ in got] == expect.tolist()
    assert [s for _, s in got] == scores.tolist()
    ties = sum((row == row.max()).sum() > 1 for row in scores)
    assert ties >= 20


def test_fewer_stages_keep_function():
    rng = np.random.default_rng(5)
    groups = tuple(np.arange(c * 20, (c + 1) * 20) for c in range(6))
    readout = Readout(groups)
    vectors = (rng.random((60, 120)) < 0.5).astype(int)
    expect = np.stack([vectors[:, g].sum(axis=1) for g in groups], axis=1).argmax(axis=1)
    for stages in (1, 3, sum(readout_levels(readout))):
        assert [c for c, _ in run_readout(readout, 120, vectors, stages)] == expect.tolist()


def test_compare_levels():
    assert [compare_levels(w) for w in (1, 2, 3, 4, 5, 7, 8, 9)] == [1, 1, 2, 2, 3, 3, 3, 4]
