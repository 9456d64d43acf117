"""Local wiring: candidates within the radius, used evenly, seeded."""

import numpy as np
import pytest

from lutmesh.errors import ConfigError
from lutmesh.netlist import grid_positions
from lutmesh.train.wiring import LayerSpec, layer_positions, parse_layers, wire_layer


def test_layer_specs_parse_and_print():
    specs = parse_layers("8x8x6, 4x4")
    assert specs == (LayerSpec(8, 8, 6), LayerSpec(4, 4, 1))
    assert [str(s) for s in specs] == ["8x8x6", "4x4"] and specs[0].n_nodes == 384
    with pytest.raises(ConfigError, match="'8x8x'"):
        parse_layers("8x8x")


def _wire(radius, seed=0):
    prev = grid_positions((8, 8), 2)
    spec = LayerSpec(4, 4, 3)
    return wire_layer(layer_positions(spec), (4, 4), prev, (8, 8), 4, 2, radius,
                      np.random.default_rng(seed)), prev


def test_every_candidate_lies_within_the_radius_and_use_is_even():
    w, prev = _wire(1)
    assert w.candidates.shape == (48, 4, 2) and (w.distance <= 1).all()
    use = np.bincount(w.candidates.ravel(), minlength=len(prev))
    # least-used first: every source is read, none more than twice the mean
    assert use.min() >= 1 and use.max() <= 2 * use.mean()


def test_global_wiring_reaches_far_and_seeds_repeat():
    w, _ = _wire(None)
    assert w.distance.max() > 2
    a, _ = _wire(2, seed=5)
    b, _ = _wire(2, seed=5)
    assert (a.candidates == b.candidates).all()


def test_a_node_with_nothing_within_the_radius_reads_its_nearest_sources():
    # one source in the corner of a 4x4 grid, two more beside it: with radius 0 only the
    # corner node has a source of its own; every other node reads the nearest ones
    prev = np.array([[0, 0], [0, 1], [2, 2]])
    w = wire_layer(grid_positions((4, 4), 1), (4, 4), prev, (4, 4), 2, 1, 0,
                   np.random.default_rng(0))
    assert w.candidates[0].ravel().tolist() == [0, 0]  # its own cell, repeated
    assert set(w.candidates[4].ravel()) == {0}  # (1,0): (0,0) and (0,1) at 1: the first
    assert set(w.candidates[15].ravel()) == {2}  # (3,3): (2,2) at 1
    assert w.radius(0) == int(w.distance.max()) == 2
    assert w.radius(3) == 3 and w.radius(None) is None
