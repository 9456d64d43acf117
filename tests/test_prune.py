import numpy as np
import pytest

from lutmesh.testing import random_inputs, random_netlist
from lutmesh.prune import restrict_table, simplify


@pytest.mark.parametrize("seed", range(40))
def test_simplify_keeps_every_prediction(seed):
    net = random_netlist(seed, p_unused=0.3)
    small = simplify(net)
    q = random_inputs(net, 300, seed)
    np.testing.assert_array_equal(small.predict_quantized(q), net.predict_quantized(q),
                                  err_msg=f"seed {seed}")
    np.testing.assert_array_equal(small.scores(small.encode(q)), net.scores(net.encode(q)))
    assert small.n_nodes <= net.n_nodes
    assert small.encoder.n_bits <= net.encoder.n_bits


def test_simplify_reaches_a_fixed_point():
    for seed in range(10):
        once = simplify(random_netlist(seed, p_unused=0.3))
        assert simplify(once).content_hash() == once.content_hash()


def test_simplify_removes_dead_and_folds_constants():
    from lutmesh import LutLayer, Netlist, Quantizer, Readout, ThermometerEncoder
    net = Netlist(
        Quantizer([2], [1.0], [0.0]),
        ThermometerEncoder(([1, 2, 3],), [[0, 0]], (1, 1)),
        (LutLayer((1, 1), [[0, 0]] * 3, [[0, 1], [1, 2], [0, 2]],
                  [[1, 1, 1, 1], [0, 0, 0, 1], [0, 1, 1, 0]], None),  # const 1, and, xor(dead)
         LutLayer((1, 1), [[0, 0]] * 2, [[0, 1], [1, -1]], [[0, 0, 0, 1], [0, 1, 0, 1]], None)),
        Readout(([0], [1])))
    small = simplify(net)
    assert [l.n_nodes for l in small.layers] == [1, 2]   # const and dead xor gone
    assert small.encoder.n_bits == 2                      # threshold 1 no longer read
    q = np.arange(4)[:, None]
    np.testing.assert_array_equal(small.predict_quantized(q), net.predict_quantized(q))


def test_restrict_table():
    table = np.array([[0, 1, 1, 0]], dtype=np.uint8)  # xor of inputs 0 and 1
    assert restrict_table(table, 1, np.array([1])).tolist() == [[1, 0, 1, 0]]
    assert restrict_table(table, 0, np.array([0])).tolist() == [[0, 0, 1, 1]]
