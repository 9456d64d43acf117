"""The bit-sliced golden model against the reference ``Netlist.predict_quantized``,
on both backends (the Numba kernels and the numpy fallback)."""

import numpy as np
import pytest

from lutmesh import bitsliced, bitsliced_kernels
from lutmesh.bitsliced import (encode_packed, encode_planes, layer_packed, predict_bitsliced,
                               predict_planes, scores_packed)
from lutmesh.errors import NetlistError
from lutmesh.netlist import LutLayer, Readout
from lutmesh.samples import random_inputs
from lutmesh.testing import random_netlist


@pytest.fixture(autouse=True, params=["numba", "numpy"])
def backend(request, monkeypatch):
    """Every test runs on both backends: each is compared with the reference."""
    if request.param == "numba" and not bitsliced_kernels.AVAILABLE:
        pytest.skip("Numba is not available")
    monkeypatch.setattr(bitsliced, "BACKEND", request.param)
    return request.param


def assert_same(net, q, seed, chunk=256):
    want = net.predict_quantized(q)
    got = predict_bitsliced(net, q, chunk=chunk)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (f"seed {seed}: {bad.size} of {len(q)} samples differ, first "
                           f"{bad[0]}: {got[bad[0]]} != {want[bad[0]]}")


@pytest.mark.parametrize("seed", range(40))
def test_random_netlists_agree_with_reference(seed):
    """Random shapes (K 2-6 per layer, radius 0-2 or global, 1-3 layers, unused
    inputs); sample counts around the 64-sample word and the chunk boundaries."""
    net = random_netlist(seed)
    for n in (1, 63, 64, 65, 255, 256, 257, 1000):
        assert_same(net, random_inputs(net, n, seed=seed), seed)


@pytest.mark.parametrize("k", range(1, 9))
def test_every_k_agrees_with_reference(k):
    net = random_netlist(100 + k, k=k, layers=2, nodes_per_layer=40, p_unused=0.2)
    assert {layer.k for layer in net.layers} == {k}
    assert_same(net, random_inputs(net, 700, seed=k), k)


def test_constant_nodes_agree_with_reference():
    """Every input unused: each node is a constant 0 or 1 (mixed over the layer)."""
    net = random_netlist(5, layers=2, nodes_per_layer=30, p_unused=1.0)
    assert (net.layers[0].inputs == -1).all()
    assert len(np.unique(net.layers[0].tables[:, 0])) == 2
    assert_same(net, random_inputs(net, 300, seed=5), 5)


def test_class_groups_over_255_nodes():
    """Popcounts past a byte (the readout then sums in 32 bits)."""
    net = random_netlist(11, layers=1, nodes_per_layer=700, classes=2, radius=None)
    n = net.layers[-1].n_nodes
    net = net.replace(readout=Readout((np.arange(0, 300), np.arange(300, n))))
    assert min(g.size for g in net.readout.groups) > 255
    assert_same(net, random_inputs(net, 500, seed=11), 11)


def test_one_flipped_table_bit_is_seen():
    """The comparison can fail: a mutant's bit-sliced classes follow the mutant's
    reference, and differ from the original's on some sample."""
    net = random_netlist(3, layers=1, nodes_per_layer=12, classes=3, p_unused=0.0)
    q = random_inputs(net, 2000, seed=3)
    layer = net.layers[0]
    node = int(net.readout.groups[0][0])
    tables = layer.tables.copy()
    pattern = int(np.bincount(layer.patterns(net.encode(q), np.array([node]))[:, 0]).argmax())
    tables[node, pattern] ^= 1
    mutant = net.replace(layers=(LutLayer(layer.grid, layer.positions, layer.inputs, tables,
                                          layer.radius),))
    assert_same(mutant, q, 3)
    assert (predict_bitsliced(mutant, q) != predict_bitsliced(net, q)).any()


def test_out_of_range_and_negative_codes_follow_reference():
    """Codes beyond 16 bits or below zero (not from the quantiser) still give the
    reference's bits: the encoder then compares in int64."""
    net = random_netlist(8)
    q = random_inputs(net, 200, seed=8)
    q[::3, 0] = -5
    q[1::3, 0] = 1 << 20
    assert_same(net, q, 8)


def test_bit_order_of_words_and_layers():
    """Sample j of a row is bit j % 64 of word j // 64; layer rows unpack to the
    reference's layer outputs and readout scores to the reference's scores."""
    net = random_netlist(21, layers=2)
    q = random_inputs(net, 130, seed=21)
    rows = encode_packed(net, q)
    unpacked = np.unpackbits(rows.view(np.uint8), axis=1, count=130, bitorder="little")
    np.testing.assert_array_equal(unpacked.T, net.encode(q))
    outs = net.forward(net.encode(q))
    for layer, want in zip(net.layers, outs):
        rows = layer_packed(layer, rows)
        got = np.unpackbits(rows.view(np.uint8), axis=1, count=130, bitorder="little")
        np.testing.assert_array_equal(got.T, want)
    np.testing.assert_array_equal(scores_packed(net, rows, 130).T, net.readout(outs[-1]))


def planes_of(q: np.ndarray, widths) -> tuple[np.ndarray, np.ndarray]:
    """Codes (S, F) laid out as payload fields of ``widths`` (in order), as bit planes
    of 64 samples (B, P), the plain way; and the fields (lsb, width)."""
    lsb = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(int)
    P = max(64, -(-int(sum(widths)) // 64) * 64)
    bits = np.zeros((-(-len(q) // 64) * 64, P), dtype=np.uint8)
    for f, (a, w) in enumerate(zip(lsb, widths)):
        for i in range(w):
            bits[:len(q), a + i] = (q[:, f] >> i) & 1
    blocks = bits.reshape(-1, 64, P).transpose(0, 2, 1)
    planes = np.packbits(np.ascontiguousarray(blocks), axis=2, bitorder="little").view("<u8")
    return planes[..., 0], np.stack([lsb, widths], axis=1)


@pytest.mark.parametrize("seed", range(12))
def test_payload_bit_planes_agree_with_reference(seed):
    """predict_planes reads the payloads' bits as they are: field widths as the
    quantiser's, wider (codes past every threshold), narrower than the thresholds
    need (no code reaches the high ones) and empty (the feature reads 0); sample
    counts around a block and a chunk."""
    net = random_netlist(300 + seed, features=(20 if seed % 3 == 0 else None))
    rng = np.random.default_rng(seed)
    widths = net.quantizer.bits.astype(int).copy()
    if seed % 4 == 1:
        widths += rng.integers(0, 12, size=len(widths))
    elif seed % 4 == 2:
        widths = np.maximum(0, widths - rng.integers(0, 3, size=len(widths)))
    elif seed % 4 == 3:
        widths[rng.integers(0, len(widths))] = 0
    for n in (1, 63, 64, 65, 300, 700):
        q = np.stack([rng.integers(0, 1 << w, size=n) for w in widths], axis=1)
        planes, fields = planes_of(q, widths)
        want = net.predict_quantized(q)
        np.testing.assert_array_equal(predict_planes(net, fields, planes, n, chunk=256), want)
    rows = encode_planes(net, fields, np.ascontiguousarray(planes.T))
    np.testing.assert_array_equal(rows, encode_packed(net, q))


def test_payload_planes_refuse_what_they_cannot_read():
    net = random_netlist(2)
    q = random_inputs(net, 100, seed=2)
    planes, fields = planes_of(q, net.quantizer.bits.astype(int))
    with pytest.raises(NetlistError, match="payload fields"):
        predict_planes(net, fields[:-1], planes, 100)
    with pytest.raises(ValueError, match="hold fewer"):
        predict_planes(net, fields, planes, 200)
    with pytest.raises(ValueError, match="chunk = 100"):
        predict_planes(net, fields, planes, 100, chunk=100)


def test_bad_shapes_and_chunks_are_refused():
    net = random_netlist(2)
    with pytest.raises(NetlistError, match="expected shape"):
        predict_bitsliced(net, np.zeros((3, net.n_features + 1), dtype=np.int64))
    with pytest.raises(ValueError, match="chunk = 100"):
        predict_bitsliced(net, random_inputs(net, 3), chunk=100)
    assert predict_bitsliced(net, random_inputs(net, 0)).shape == (0,)


def test_trained_digits_model_agrees_with_reference():
    """A trained netlist (default layer spec, 2 epochs): the test split and random codes."""
    from lutmesh.datasets import load_dataset
    from lutmesh.train import TrainConfig, train

    data = load_dataset("digits")
    net = train(data, TrainConfig(epochs=2, progress=False))
    q = np.concatenate([net.quantize(data.X_test), random_inputs(net, 20000, seed=0)])
    assert_same(net, q, 0, chunk=8192)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_rows_round_trip_and_a_subset_of_nodes_equals_its_layer(k):
    """pack_rows / unpack_rows round-trip (300 samples: padding in the last word),
    row_ones counts, and nodes_packed on gathered rows equals those nodes of
    layer_packed: what the circuit search's incremental passes rely on."""
    from lutmesh.bitsliced import nodes_packed, pack_rows, row_ones, unpack_rows

    net = random_netlist(200 + k, k=k, layers=1, nodes_per_layer=50, p_unused=0.2)
    bits = net.encode(random_inputs(net, 300, seed=k))
    rows = pack_rows(bits)
    np.testing.assert_array_equal(unpack_rows(rows, 300), bits.T)
    np.testing.assert_array_equal(row_ones(rows, 300), bits.sum(axis=0))
    layer = net.layers[0]
    whole = layer_packed(layer, rows)
    np.testing.assert_array_equal(unpack_rows(whole, 300), layer(bits).T)
    nodes = np.array([3, 0, 17, 49])
    padded = np.concatenate([rows, np.zeros((1, rows.shape[1]), np.uint64)])
    sources = np.where(layer.inputs[nodes] >= 0, layer.inputs[nodes], len(rows))
    np.testing.assert_array_equal(nodes_packed(layer, nodes, padded, sources), whole[nodes])


def test_warm_up_loads_the_kernels_and_changes_nothing(backend):
    net = random_netlist(3, features=12, k=4, layers=2, nodes_per_layer=20, classes=3)
    q = random_inputs(net, 300, seed=3)
    before = predict_bitsliced(net, q)
    seconds = bitsliced.warm_up(net)
    assert seconds >= 0
    np.testing.assert_array_equal(predict_bitsliced(net, q), before)
    assert_same(net, q, 3)
