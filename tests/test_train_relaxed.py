import numpy as np
import pytest

import lutmesh.train.relaxed as relaxed
from lutmesh.train.relaxed import RelaxedLutLayer
from lutmesh.train.wiring import Wiring


def numeric_grad(f, arr, eps=1e-6):
    g = np.zeros_like(arr)
    for i in np.ndindex(arr.shape):
        old = arr[i]
        arr[i] = old + eps
        hi = f()
        arr[i] = old - eps
        lo = f()
        arr[i] = old
        g[i] = (hi - lo) / (2 * eps)
    return g


@pytest.mark.parametrize("backend", relaxed.BACKENDS)
@pytest.mark.parametrize("k, m", [(2, 1), (4, 1), (3, 3), (6, 2)])
def test_backward_matches_finite_differences(monkeypatch, k, m, backend):
    monkeypatch.setattr(relaxed, "DTYPE", np.float64)
    rng = np.random.default_rng(k * 10 + m)
    P, N, B = 9, 4, 3
    layer = RelaxedLutLayer(Wiring(rng.integers(0, P, (N, k, m)), rng.integers(0, 3, (N, k, m))),
                            P, 1.0, rng, backend=backend)
    layer.w = layer.w.astype(np.float64)
    if m > 1:
        layer.a = rng.standard_normal((N, k, m))
    x = rng.random((B, P))
    c = rng.standard_normal((B, N))
    cost = 0.2

    def loss():
        out, _ = layer.forward(x)
        return float((out * c).sum()) + cost * layer.length_penalty()

    out, cache = layer.forward(x)
    grads, dx = layer.backward(c, cache, cost)
    np.testing.assert_allclose(grads[0], numeric_grad(loss, layer.w), atol=1e-7)
    if m > 1:
        np.testing.assert_allclose(grads[1], numeric_grad(loss, layer.a), atol=1e-7)
    np.testing.assert_allclose(dx, numeric_grad(loss, x), atol=1e-7)


@pytest.mark.parametrize("backend", relaxed.BACKENDS)
def test_relaxation_is_exact_on_bits(backend):
    """On 0/1 inputs with 0/1 tables the multilinear extension is the LUT itself."""
    rng = np.random.default_rng(0)
    P, N, K = 8, 6, 4
    layer = RelaxedLutLayer(Wiring(rng.integers(0, P, (N, K, 1)), np.zeros((N, K, 1), int)),
                            P, 1.0, rng, backend=backend)
    layer.w = np.where(rng.random(layer.w.shape) < 0.5, -40.0, 40.0).astype(np.float32)
    bits = rng.integers(0, 2, (50, P)).astype(np.float32)
    soft, _ = layer.forward(bits)
    hard = RelaxedLutLayer.hard_forward(bits.astype(np.uint8), layer.hard_inputs(),
                                        layer.hard_tables())
    np.testing.assert_allclose(soft, hard, atol=1e-6)
