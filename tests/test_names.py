"""One vocabulary: node names are the Verilog's, encoder bits read as thresholds."""

import numpy as np

from lutmesh.names import bit_names, feature_label, layer_names, node_names
from lutmesh.netlist import LutLayer
from lutmesh.testing import random_netlist


def test_node_names_carry_layer_and_position_and_number_shared_cells():
    positions = np.array([[0, 0], [0, 1], [0, 1], [2, 3]])
    layer = LutLayer((3, 4), positions, -np.ones((4, 2), dtype=np.int64),
                     np.zeros((4, 4), dtype=np.uint8), None)
    assert node_names(layer, 1) == ["l1_r0_c0", "l1_r0_c1_0", "l1_r0_c1_1", "l1_r2_c3"]


def test_every_name_of_a_netlist_is_unique():
    for seed in range(5):
        net = random_netlist(seed)
        names = [n for layer in layer_names(net) for n in layer]
        assert len(names) == len(set(names)) == net.n_nodes
        bits = bit_names(net)
        assert len(bits) == net.encoder.n_bits and all(" ≥ " in b for b in bits)


def test_pixel_features_read_as_image_coordinates():
    net = random_netlist(0, features=3)
    net = net.replace(feature_names=("px_2_7", "pixel[0,1]", "age"))
    assert [feature_label(net, f) for f in range(3)] == ["px[2,7]", "px[0,1]", "age"]
