"""The Numba kernels against the numpy layer they replace, and their determinism."""

import numpy as np
import pytest

from lutmesh.errors import ConfigError
from lutmesh.train import kernels, relaxed
from lutmesh.train.relaxed import RelaxedLutLayer
from lutmesh.train.wiring import Wiring


def pair(rng, B, N, K, M, P):
    """The same random layer on both backends, choice logits drawn too."""
    wiring = Wiring(rng.integers(0, P, (N, K, M)), rng.integers(0, 3, (N, K, M)))
    layers = [RelaxedLutLayer(wiring, P, 0.5, np.random.default_rng(7), backend=b)
              for b in ("numpy", "numba")]
    if M > 1:
        logits = rng.standard_normal((N, K, M)).astype(np.float32)
        for layer in layers:
            layer.a[...] = logits
    x = rng.random((B, P)).astype(np.float32)
    dout = rng.standard_normal((B, N)).astype(np.float32)
    return layers, x, dout


def run(layer, x, dout, need_input_grad=True):
    out, cache = layer.forward(x)
    grads, dprev = layer.backward(dout, cache, 0.05, need_input_grad=need_input_grad)
    return out, grads, dprev


# batch sizes on both sides of the kernels' 8-lane reduction; K from 1 to 8
@pytest.mark.parametrize("B, N, K, M, P", [(1, 3, 1, 1, 4), (7, 5, 2, 3, 6), (8, 9, 4, 4, 20),
                                           (13, 11, 4, 1, 30), (33, 6, 6, 2, 15),
                                           (5, 4, 8, 2, 12)])
def test_kernels_match_the_numpy_layer(B, N, K, M, P):
    rng = np.random.default_rng(B * 100 + N)
    (ref, fast), x, dout = pair(rng, B, N, K, M, P)
    out_r, grads_r, dprev_r = run(ref, x, dout)
    out_f, grads_f, dprev_f = run(fast, x, dout)
    np.testing.assert_allclose(out_f, out_r, rtol=1e-5, atol=1e-6)
    assert len(grads_f) == len(grads_r)
    for g_f, g_r in zip(grads_f, grads_r):
        assert g_f.dtype == np.float32 and g_f.shape == g_r.shape
        np.testing.assert_allclose(g_f, g_r, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dprev_f, dprev_r, rtol=1e-4, atol=1e-5)
    assert run(fast, x, dout, need_input_grad=False)[2] is None


def test_a_changed_table_entry_changes_the_kernel_output():
    """The comparison above can fail: one table logit moved changes one node's output."""
    rng = np.random.default_rng(3)
    (ref, fast), x, dout = pair(rng, 16, 6, 4, 2, 10)
    fast.w[2, 5] += 3.0
    diff = np.abs(run(fast, x, dout)[0] - run(ref, x, dout)[0]).max(axis=0)
    assert diff[2] > 1e-3 and np.all(diff[np.arange(6) != 2] < 1e-6)


def test_kernel_results_do_not_depend_on_the_thread_count(monkeypatch):
    from numba import config

    rng = np.random.default_rng(11)
    (_, fast), x, dout = pair(rng, 64, 300, 4, 4, 200)
    monkeypatch.setattr(kernels, "PARALLEL_MIN_TERMS", 0)
    results = []
    for threads in sorted({1, config.NUMBA_NUM_THREADS}):
        monkeypatch.setattr(config, "NUMBA_NUM_THREADS", threads)
        out, grads, dprev = run(fast, x, dout)
        results.append([out, *grads, dprev])
    for a, b in zip(results[0], results[-1]):
        assert np.array_equal(a, b)


def test_backend_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("LUTMESH_TRAIN_BACKEND", "numpy")
    assert relaxed.default_backend() == "numpy"
    monkeypatch.setenv("LUTMESH_TRAIN_BACKEND", "cuda")
    with pytest.raises(ConfigError, match="LUTMESH_TRAIN_BACKEND='cuda'"):
        relaxed.default_backend()
    monkeypatch.delenv("LUTMESH_TRAIN_BACKEND")
    assert relaxed.default_backend() == "numba"
