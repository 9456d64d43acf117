"""Adam against the published update rule, step by step, and on a quadratic."""

import numpy as np
import pytest

from lutmesh.train.adam import Adam


def reference_adam(p, grads, lr, b1=0.9, b2=0.999, eps=1e-8):
    """Kingma & Ba (2015), Algorithm 1, written out for one array."""
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return p


def test_steps_follow_the_published_rule():
    rng = np.random.default_rng(0)
    p0 = rng.normal(size=(3, 4))
    grads = [rng.normal(size=(3, 4)) for _ in range(7)]
    p = p0.copy()
    opt = Adam([p], lr=0.05)
    for g in grads:
        opt.step([g])
    np.testing.assert_allclose(p, reference_adam(p0, grads, 0.05), rtol=1e-12)


def test_a_per_step_learning_rate_overrides_the_default():
    p = np.array([1.0])
    opt = Adam([p], lr=1.0)
    opt.step([np.array([2.0])], lr=0.1)
    # the first bias-corrected step moves by lr * sign(g)
    assert p[0] == pytest.approx(0.9)


def test_keeps_each_arrays_dtype_and_updates_in_place():
    a = np.ones(5, dtype=np.float32)
    b = np.zeros((2, 2), dtype=np.float64)
    opt = Adam([a, b], lr=0.01)
    opt.step([np.ones(5, dtype=np.float64), np.ones((2, 2))])
    assert a.dtype == np.float32 and b.dtype == np.float64
    assert (a < 1).all() and (b < 0).all()


def test_minimises_a_quadratic():
    target = np.array([3.0, -2.0, 0.5])
    p = np.zeros(3)
    opt = Adam([p], lr=0.1)
    for _ in range(2000):
        opt.step([2 * (p - target)])
    np.testing.assert_allclose(p, target, atol=1e-3)
