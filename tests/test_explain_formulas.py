"""explain.formulas: a node's formula equals its table (on every pattern, or on the
patterns seen when unseen ones are don't-cares), and names its inputs."""

import numpy as np
import pytest

from lutmesh.explain.formulas import evaluate_terms, node_formula


@pytest.mark.parametrize("k", [1, 2, 3, 4, 6])
def test_exact_formula_equals_table_on_every_pattern(k):
    rng = np.random.default_rng(k)
    names = [f"s{i}" for i in range(k)]
    for _ in range(40):
        table = rng.integers(0, 2, 1 << k).astype(np.uint8)
        inputs = np.arange(k)
        f = node_formula(table, inputs, names)
        patterns = (np.arange(1 << k)[:, None] >> np.arange(k)) & 1
        assert evaluate_terms(f.terms, patterns).tolist() == table.tolist(), f.text


def test_formula_with_dont_cares_equals_table_on_seen_patterns_and_names_inputs():
    rng = np.random.default_rng(0)
    for _ in range(40):
        table = rng.integers(0, 2, 16).astype(np.uint8)
        seen = rng.random(16) < 0.5
        f = node_formula(table, np.array([3, 1, 0, 2]), ["a ≥ 1", "b ≥ 2", "c", "d"], seen)
        patterns = (np.arange(16)[:, None] >> np.arange(4)) & 1
        got = evaluate_terms(f.terms, patterns)
        assert (got[seen] == table[seen]).all()
    const = node_formula(np.array([0, 0, 0, 0], np.uint8), np.array([0, -1]), ["a ≥ 1"])
    assert (const.kind, const.text) == ("constant", "0")
    inv = node_formula(np.array([1, 0, 1, 0], np.uint8), np.array([0, -1]), ["a ≥ 1"])
    assert (inv.kind, inv.text) == ("inverter", "a < 1")
    wire = node_formula(np.array([0, 0, 1, 1], np.uint8), np.array([-1, 0]), ["l0_r0_c0"])
    assert (wire.kind, wire.text) == ("wire", "l0_r0_c0")
