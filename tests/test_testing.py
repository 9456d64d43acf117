"""The random-netlist generator covers what the contract allows, and repeats by seed."""

import numpy as np

from lutmesh.netlist import Netlist
from lutmesh.testing import random_netlist


def test_same_seed_same_netlist_and_every_netlist_is_valid(tmp_path):
    for seed in range(20):
        a, b = random_netlist(seed), random_netlist(seed)
        assert a.content_hash() == b.content_hash()
        a.save(tmp_path / "n.npz")  # validated again on load
        assert Netlist.load(tmp_path / "n.npz").content_hash() == a.content_hash()


def test_the_corner_cases_downstream_stages_must_handle_appear():
    nets = [random_netlist(seed) for seed in range(40)]
    layers = [layer for net in nets for layer in net.layers]
    assert any((layer.inputs < 0).any() for layer in layers)          # unused inputs
    assert any(layer.radius is None for layer in layers)              # global layers
    assert any(len({tuple(p) for p in layer.positions}) < layer.n_nodes
               for layer in layers)                                    # shared grid cells
    constant = [(t == t[:, :1]).all(axis=1) for t in (layer.tables for layer in layers)]
    assert any(c.any() for c in constant)                              # constant nodes
    assert any(sum(g.size for g in net.readout.groups) < net.layers[-1].n_nodes
               for net in nets)                                        # unused last nodes
    assert len({net.n_classes for net in nets}) > 2


def test_explicit_sizes_are_honoured():
    net = random_netlist(3, features=6, k=3, layers=2, nodes_per_layer=10, classes=4, radius=1)
    assert net.n_features == 6 and net.n_classes == 4 and len(net.layers) == 2
    assert all(layer.k == 3 and layer.radius == 1 for layer in net.layers)
    assert np.all([layer.n_nodes for layer in net.layers] == np.array([10, 10]))
