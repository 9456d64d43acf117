import json
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lutmesh import LutLayer, Netlist, NetlistError, Quantizer, Readout, ThermometerEncoder
from lutmesh.testing import random_inputs, random_netlist


def small_netlist(**overrides):
    """Two features on a 1x2 grid, one layer of two K=2 nodes, two classes."""
    parts = dict(
        quantizer=Quantizer([3, 3], [1.0, 1.0], [0.0, 0.0]),
        encoder=ThermometerEncoder(([2, 5], [4]), [[0, 0], [0, 1]], (1, 2)),
        layers=(LutLayer((1, 2), [[0, 0], [0, 1]], [[0, 1], [1, 2]],
                         [[0, 1, 1, 0], [0, 0, 0, 1]], 1),),
        readout=Readout(([0], [1])),
        class_names=("a", "b"),
    )
    parts.update(overrides)
    return Netlist(**parts)


# -- the slow reference, written independently of lutmesh.netlist ---------------

def reference_predict(net, X):
    preds = []
    for x in X:
        q = []
        for f, v in enumerate(x):
            top = 2 ** int(net.quantizer.bits[f]) - 1
            q.append(min(max(math.floor((v - net.quantizer.offset[f]) * net.quantizer.scale[f]
                                        + 0.5), 0), top))
        bits = []
        for f, ths in enumerate(net.encoder.thresholds):
            for t in ths:
                bits.append(1 if q[f] >= t else 0)
        for layer in net.layers:
            out = []
            for n in range(layer.n_nodes):
                idx = 0
                for k in range(layer.k):
                    src = layer.inputs[n][k]
                    if src >= 0 and bits[src]:
                        idx += 2 ** k
                out.append(int(layer.tables[n][idx]))
            bits = out
        scores = [sum(bits[i] for i in g) for g in net.readout.groups]
        best = 0
        for c in range(len(scores)):
            if scores[c] > scores[best]:
                best = c
        preds.append(best)
    return np.array(preds)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_predict_equals_slow_reference(seed):
    net = random_netlist(seed)
    rng = np.random.default_rng(seed)
    span = (1 << net.quantizer.bits) / net.quantizer.scale
    X = net.quantizer.offset + rng.uniform(-0.2, 1.2, (40, net.n_features)) * span
    np.testing.assert_array_equal(net.predict(X), reference_predict(net, X))


def test_tie_goes_to_lowest_class():
    net = small_netlist(layers=(LutLayer((1, 2), [[0, 0], [0, 1]], [[0, 1], [1, 2]],
                                         [[1, 1, 1, 1], [1, 1, 1, 1]], 1),))
    assert net.predict(np.array([[0.0, 0.0], [7.0, 7.0]])).tolist() == [0, 0]
    net = small_netlist(layers=(LutLayer((1, 2), [[0, 0], [0, 1]], [[0, 1], [1, 2]],
                                         [[0, 1, 1, 1], [0, 1, 1, 1]], 1),))
    q = np.array([[3, 0], [7, 7]])
    assert net.scores(net.encode(q)).tolist() == [[1, 0], [1, 1]]
    assert net.predict_quantized(q).tolist() == [0, 0]


def test_forward_known_values():
    net = small_netlist()
    q = np.array([[0, 0], [2, 0], [5, 4], [7, 7], [2, 4]])
    bits = net.encode(q)
    assert bits.tolist() == [[0, 0, 0], [1, 0, 0], [1, 1, 1], [1, 1, 1], [1, 0, 1]]
    layer = net.forward(bits)[0]
    # node 0 = xor(bit0, bit1); node 1 = bit1 and bit2
    assert layer.tolist() == [[0, 0], [1, 0], [0, 1], [0, 1], [1, 0]]


def test_quantize_rounds_and_clips():
    net = small_netlist(quantizer=Quantizer([3, 3], [2.0, 1.0], [1.0, -0.5]))
    q = net.quantize(np.array([[1.0, 0.0], [1.24, 6.4], [1.26, 100.0], [-5.0, -5.0]]))
    assert q.tolist() == [[0, 1], [0, 7], [1, 7], [0, 0]]


def test_quantize_refuses_nan():
    with pytest.raises(NetlistError, match=r"sample 1, feature 0 is nan"):
        small_netlist().quantize(np.array([[1.0, 2.0], [np.nan, 1.0]]))


# -- storage ------------------------------------------------------------------

def test_save_load_round_trip(tmp_path):
    for seed in range(20):
        net = random_netlist(seed)
        path = net.save(tmp_path / f"n{seed}.npz")
        back = Netlist.load(path)
        assert back.content_hash() == net.content_hash()
        assert back.meta == net.meta
        assert back.class_names == net.class_names
        q = random_inputs(net, 100, seed)
        np.testing.assert_array_equal(back.predict_quantized(q), net.predict_quantized(q))


def test_save_is_byte_identical(tmp_path):
    net = random_netlist(7)
    a = net.save(tmp_path / "a.npz").read_bytes()
    b = Netlist.load(tmp_path / "a.npz").save(tmp_path / "b.npz").read_bytes()
    assert a == b


def test_save_leaves_no_temporary_files(tmp_path):
    random_netlist(1).save(tmp_path / "m.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_hash_ignores_training_figures():
    net = random_netlist(2)
    assert net.replace(meta={"accuracy": 0.5}).content_hash() == net.content_hash()
    t = net.layers[0].tables.copy()
    i = int(np.flatnonzero(net.layers[0].inputs[:, 0] >= 0)[0]) if (net.layers[0].inputs[:, 0] >= 0).any() else None
    if i is not None:
        t[i] ^= 1
        changed = net.replace(layers=(net.layers[0].__class__(
            net.layers[0].grid, net.layers[0].positions, net.layers[0].inputs, t,
            net.layers[0].radius),) + net.layers[1:])
        assert changed.content_hash() != net.content_hash()


def _arrays(path):
    with np.load(path, allow_pickle=False) as d:
        return {k: d[k] for k in d.files}


def _write(path, arrays):
    np.savez(path, **arrays)


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"not a zip at all", "not an .npz"),
])
def test_load_refuses_non_npz(tmp_path, content, message):
    p = tmp_path / "bad.npz"
    p.write_bytes(content)
    with pytest.raises(NetlistError, match=message):
        Netlist.load(p)


def test_load_refuses_missing_file(tmp_path):
    with pytest.raises(NetlistError, match="no such file"):
        Netlist.load(tmp_path / "nothing.npz")


def test_load_refuses_truncated(tmp_path):
    p = small_netlist().save(tmp_path / "ok.npz")
    data = p.read_bytes()
    for cut in (len(data) // 3, len(data) - 10):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(NetlistError, match="not a valid netlist file"):
            Netlist.load(bad)


def test_load_refuses_corrupted_bytes(tmp_path):
    p = random_netlist(3).save(tmp_path / "ok.npz")
    data = bytearray(p.read_bytes())
    rng = np.random.default_rng(0)
    for trial in range(30):
        bad = bytearray(data)
        for i in rng.integers(30, len(bad) - 30, size=8):
            bad[i] ^= 0xFF
        path = tmp_path / f"c{trial}.npz"
        path.write_bytes(bytes(bad))
        try:
            Netlist.load(path)  # a flip in padding may leave a valid file
        except NetlistError:
            pass


def test_load_refuses_pickle(tmp_path):
    p = small_netlist().save(tmp_path / "ok.npz")
    arrays = _arrays(p)
    arrays["layer0_tables"] = np.array([{"evil": 1}], dtype=object)
    bad = tmp_path / "pickled.npz"
    np.savez(bad, **arrays)
    with pytest.raises(NetlistError, match="pickled"):
        Netlist.load(bad)


def test_load_refuses_unknown_version(tmp_path):
    p = small_netlist().save(tmp_path / "ok.npz")
    arrays = _arrays(p)
    meta = json.loads(arrays["meta"].tobytes())
    meta["format_version"] = 99
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    _write(tmp_path / "v99.npz", arrays)
    with pytest.raises(NetlistError, match=r"format_version = 99 is not supported"):
        Netlist.load(tmp_path / "v99.npz")


def test_load_refuses_missing_array(tmp_path):
    arrays = _arrays(small_netlist().save(tmp_path / "ok.npz"))
    del arrays["layer0_inputs"]
    _write(tmp_path / "m.npz", arrays)
    with pytest.raises(NetlistError, match=r"missing array 'layer0_inputs'"):
        Netlist.load(tmp_path / "m.npz")


def test_load_refuses_bad_value_with_file_name(tmp_path):
    arrays = _arrays(small_netlist().save(tmp_path / "ok.npz"))
    arrays["layer0_inputs"] = np.array([[0, 1], [1, 9]])
    _write(tmp_path / "r.npz", arrays)
    with pytest.raises(NetlistError, match=r"r\.npz: layers\[0\]\.inputs\[1, 1\] = 9 is out of range"):
        Netlist.load(tmp_path / "r.npz")


def test_load_refuses_bad_meta_json(tmp_path):
    arrays = _arrays(small_netlist().save(tmp_path / "ok.npz"))
    arrays["meta"] = np.frombuffer(b"{not json", dtype=np.uint8)
    _write(tmp_path / "j.npz", arrays)
    with pytest.raises(NetlistError, match="meta: not valid JSON"):
        Netlist.load(tmp_path / "j.npz")


# -- every validation rule names the field and the value -------------------------

L = lambda **kw: LutLayer(**{**dict(grid=(1, 2), positions=[[0, 0], [0, 1]],  # noqa: E731
                                    inputs=[[0, 1], [1, 2]], tables=[[0, 1, 1, 0], [0, 0, 0, 1]],
                                    radius=1), **kw})


@pytest.mark.parametrize("make, message", [
    (lambda: Quantizer([3, 0], [1, 1], [0, 0]), r"quantizer\.bits\[1\] = 0 is outside 1\.\.16"),
    (lambda: Quantizer([3, 17], [1, 1], [0, 0]), r"quantizer\.bits\[1\] = 17"),
    (lambda: Quantizer([3.0, 3.0], [1, 1], [0, 0]), r"quantizer\.bits: expected an integer array"),
    (lambda: Quantizer([3, 3], [1, -2], [0, 0]), r"quantizer\.scale\[1\] = -2\.0 must be > 0"),
    (lambda: Quantizer([3, 3], [1, 1], [0, np.inf]), r"quantizer\.offset\[1\] = inf is not finite"),
    (lambda: Quantizer([3, 3], [1], [0, 0]), r"quantizer\.scale: expected shape \(2,\)"),
    (lambda: Quantizer([], [], []), r"at least one feature"),
    (lambda: ThermometerEncoder(([1],), [[0, 5]], (1, 2)), r"encoder\.positions\[0\] = \(0, 5\) lies outside the grid \(1, 2\)"),
    (lambda: ThermometerEncoder(([1],), [[0, 0]], (0, 2)), r"encoder\.grid = \(0, 2\)"),
    (lambda: small_netlist(encoder=ThermometerEncoder(([5, 2], [4]), [[0, 0], [0, 1]], (1, 2))),
     r"encoder\.thresholds\[0\] is not strictly increasing: 5 then 2"),
    (lambda: small_netlist(encoder=ThermometerEncoder(([2, 8], [4]), [[0, 0], [0, 1]], (1, 2))),
     r"encoder\.thresholds\[0\] contains 8, outside 1\.\.7"),
    (lambda: small_netlist(encoder=ThermometerEncoder(([0, 2], [4]), [[0, 0], [0, 1]], (1, 2))),
     r"encoder\.thresholds\[0\] contains 0"),
    (lambda: small_netlist(encoder=ThermometerEncoder(([2],), [[0, 0]], (1, 2))),
     r"encoder\.thresholds: 1 features, but the quantizer has 2"),
    (lambda: L(inputs=[[0, 1, 2, 0, 1, 2, 0, 1, 2]] * 2, tables=np.zeros((2, 512), int)),
     r"K = 9 is outside 1\.\.8"),
    (lambda: L(tables=[[0, 1, 1], [0, 0, 0]]), r"layer\.tables: expected shape \(2, 4\)"),
    (lambda: L(tables=[[0, 1, 1, 2], [0, 0, 0, 1]]), r"layer\.tables\[0, 3\] = 2 is not a bit"),
    (lambda: L(positions=[[0, 0], [1, 1]]), r"layer\.positions\[1\] = \(1, 1\) lies outside"),
    (lambda: L(radius=-1), r"layer\.radius = -1"),
    (lambda: L(inputs=[[0.5, 1], [1, 2]]), r"layer\.inputs: expected an integer array"),
    (lambda: small_netlist(layers=(L(inputs=[[0, 1], [1, 3]]),)),
     r"layers\[0\]\.inputs\[1, 1\] = 3 is out of range -1\.\.2"),
    (lambda: small_netlist(layers=(L(inputs=[[0, -2], [1, 2]]),)),
     r"layers\[0\]\.inputs\[0, 1\] = -2 is out of range"),
    (lambda: small_netlist(layers=(L(inputs=[[0, -1], [1, 2]]),)),
     r"layers\[0\]\.tables\[0\] depends on input 1, which is unused"),
    (lambda: small_netlist(layers=(L(radius=0, inputs=[[0, 2], [1, 2]]),)),
     r"layers\[0\]\.inputs\[0, 1\] = 2 breaks locality: source at \(0, 1\) is 1 cells from node 0's centre \(0, 0\) \(radius 0\)"),
    (lambda: small_netlist(layers=()), r"at least one layer"),
    (lambda: Readout(([0],)), r"readout\.groups: 1 class\(es\)"),
    (lambda: Readout(([0], [])), r"readout\.groups\[1\] is empty"),
    (lambda: small_netlist(readout=Readout(([0], [0, 1]))),
     r"readout\.groups\[1\] contains node 0, which already belongs to readout\.groups\[0\]"),
    (lambda: small_netlist(readout=Readout(([0], [2]))), r"readout\.groups\[1\] contains 2, outside 0\.\.1"),
    (lambda: small_netlist(class_names=("a",)), r"class_names: 1 names for 2 readout groups"),
    (lambda: small_netlist(feature_names=("x", "y", "z")), r"feature_names: 3 names for 2 features"),
    (lambda: small_netlist(meta={"x": object()}), r"meta: not JSON-serialisable"),
])
def test_validation_names_field_and_value(make, message):
    with pytest.raises(NetlistError, match=message):
        make()


def test_unused_input_allowed_when_table_ignores_it():
    net = small_netlist(layers=(L(inputs=[[0, -1], [1, 2]], tables=[[0, 1, 0, 1], [0, 0, 0, 1]]),))
    assert net.layers[0].arity().tolist() == [1, 2]
    assert net.forward(np.array([[1, 1, 1]], dtype=np.uint8))[0].tolist() == [[1, 1]]


def test_global_radius_accepts_any_source():
    net = small_netlist(layers=(L(radius=None, inputs=[[2, 0], [0, 2]]),))
    assert net.layers[0].radius is None


@pytest.mark.parametrize("name, value, message", [
    ("readout_counts", np.array([1, 2]), r"readout_counts: sum 3 does not match the 2 entries of readout_nodes"),
    ("encoder_counts", np.array([2, -1]), r"encoder_counts: sum 1 does not match the 3 entries"),
])
def test_load_refuses_ragged_count_mismatch(tmp_path, name, value, message):
    arrays = _arrays(small_netlist().save(tmp_path / "ok.npz"))
    arrays[name] = value
    _write(tmp_path / "c.npz", arrays)
    with pytest.raises(NetlistError, match=message):
        Netlist.load(tmp_path / "c.npz")
