"""Fused forward and backward kernels of the relaxed LUT layer, compiled by Numba.

The numpy layer (:mod:`.relaxed`) builds every intermediate of the multilinear
extension as a ``(batch, nodes, 2**K)`` array: ten temporaries per layer and step,
and on the Fashion-MNIST model (7,016 nodes, K = 4, 4 candidates) 3.7 ms of one
core per sample. These kernels walk one (sample, node) pair at a time and keep the
``2**K`` basis in a small buffer, so memory traffic is the inputs and outputs only,
and they spread the work over every core. Measured in ``benchmarks/train_profile.py``.

Each kernel is deterministic whatever the number of threads: a thread owns whole
rows of every output (samples in the forward and input-gradient passes, nodes in the
parameter-gradient pass), and every sum runs in a fixed order. The result differs
from the numpy layer's in the last float32 bits (summation order), so a netlist
trained with one backend is reproduced by that backend; ``metrics.json`` records it.
"""

from __future__ import annotations

import numpy as np

try:  # numba is a dependency; the numpy layer is the fallback where it cannot load
    from numba import njit, prange
except ImportError:  # pragma: no cover - exercised by LUTMESH_TRAIN_BACKEND=numpy
    njit = None

__all__ = ["AVAILABLE", "forward", "backward_params", "backward_inputs", "threads_for"]

AVAILABLE = njit is not None

# Below this many basis terms per call (nodes x samples x 2**K) a kernel runs on one
# thread: a parallel region ends at a barrier, and on a machine whose cores are busy
# with other work a descheduled thread holds it for a whole time slice. Measured on
# this 2-core machine with a second job running: 10 digits epochs (1,141 nodes,
# batch 64, ~655k terms a call) took 6.8 s on two threads and 1.6 s on one.
PARALLEL_MIN_TERMS = 4_000_000


def threads_for(terms: int) -> int:
    """Threads for a kernel call of ``terms`` basis terms (results do not depend on it)."""
    if terms < PARALLEL_MIN_TERMS:
        return 1
    from numba import config

    return config.NUMBA_NUM_THREADS


LANES = 8  # partial sums per reduction: a fixed order that the compiler can vectorise


def _dot(a, b, lanes):
    """``sum(a * b)`` over ``LANES`` interleaved partial sums, then added in a fixed
    order: vectorised, and the same on every machine (no fast-math)."""
    n = a.shape[0]
    body = n - n % LANES
    for lane in range(LANES):
        lanes[lane] = 0.0
    for i in range(0, body, LANES):
        for lane in range(LANES):
            lanes[lane] += a[i + lane] * b[i + lane]
    for lane in range(1, LANES):
        lanes[0] += lanes[lane]
    for i in range(body, n):
        lanes[0] += a[i] * b[i]
    return lanes[0]


def _mix(x_prev, cand, s, n, xs):
    """Each slot's input of node ``n``: its candidates weighted by their choice, (K, B)."""
    for k in range(cand.shape[1]):
        xs[k, :] = 0.0
        for m in range(cand.shape[2]):
            w, src = s[n, k, m], cand[n, k, m]
            for b in range(xs.shape[1]):
                xs[k, b] += w * x_prev[src, b]


def _basis_levels(xs, levels):
    """The multilinear basis after 0..K inputs, (2**(K+1) - 1, B), level ``j`` in rows
    ``2**j - 1`` onwards; each row is one corner's weight for every sample."""
    levels[0, :] = 1.0
    one = levels[0, 0]  # 1 in the arrays' own type: a literal 1 would widen to float64
    size = 1
    for k in range(xs.shape[0]):
        base, nxt = size - 1, 2 * size - 1
        for j in range(size):
            for b in range(xs.shape[1]):
                p, xk = levels[base + j, b], xs[k, b]
                levels[nxt + j, b] = p * (one - xk)
                levels[nxt + size + j, b] = p * xk
        size *= 2


def _forward(x_prev, cand, s, t):
    """Outputs (N, B) and mixed inputs (N, K, B) from the previous layer's (P, B);
    whole nodes per thread, samples innermost."""
    n_n, k_n, b_n = cand.shape[0], cand.shape[1], x_prev.shape[1]
    width = 1 << k_n
    out = np.empty((n_n, b_n), dtype=x_prev.dtype)
    xmix = np.empty((n_n, k_n, b_n), dtype=x_prev.dtype)
    for n in prange(n_n):
        levels = np.empty((2 * width - 1, b_n), dtype=x_prev.dtype)
        _mix(x_prev, cand, s, n, xmix[n])
        _basis_levels(xmix[n], levels)
        out[n, :] = 0.0
        for j in range(width):
            tj = t[n, j]
            for b in range(b_n):
                out[n, b] += levels[width - 1 + j, b] * tj
    return out, xmix


def _slot_gradients(dout_n, t_n, xs, levels, gcur, dx_n):
    """d loss / d x for each slot of one node, (K, B): the basis recursion run back."""
    width, one = t_n.shape[0], levels[0, 0]
    for j in range(width):
        for b in range(dout_n.shape[0]):
            gcur[j, b] = dout_n[b] * t_n[j]
    for k in range(xs.shape[0] - 1, -1, -1):
        half = 1 << k
        dx_n[k, :] = 0.0
        for j in range(half):
            for b in range(dout_n.shape[0]):
                g0, g1, xk = gcur[j, b], gcur[half + j, b], xs[k, b]
                dx_n[k, b] += (g1 - g0) * levels[half - 1 + j, b]
                gcur[j, b] = g0 * (one - xk) + g1 * xk


def _backward_params(dout, xmix, x_prev, cand, s, t):
    """Per node: the table gradient (before the sigmoid's slope), the choice gradient
    (K, M) and each slot's input gradient ``dx`` (N, K, B); whole nodes per thread."""
    n_n, k_n, m_n, b_n = cand.shape[0], cand.shape[1], cand.shape[2], x_prev.shape[1]
    width = 1 << k_n
    dw = np.empty((n_n, width), dtype=x_prev.dtype)
    ds = np.empty((n_n, k_n, m_n), dtype=x_prev.dtype)
    dx = np.empty((n_n, k_n, b_n), dtype=x_prev.dtype)
    for n in prange(n_n):
        levels = np.empty((2 * width - 1, b_n), dtype=x_prev.dtype)
        gcur = np.empty((width, b_n), dtype=x_prev.dtype)
        lanes = np.empty(LANES, dtype=x_prev.dtype)
        _basis_levels(xmix[n], levels)
        for j in range(width):
            dw[n, j] = _dot(dout[n], levels[width - 1 + j], lanes)
        _slot_gradients(dout[n], t[n], xmix[n], levels, gcur, dx[n])
        for k in range(k_n):
            for m in range(m_n):
                ds[n, k, m] = _dot(dx[n, k], x_prev[cand[n, k, m]], lanes)
    return dw, ds, dx


def _backward_inputs(dx, s, sources, slots):
    """Gradient of the previous layer's outputs (P, B): for each source, the ``dx`` of
    every slot that may read it times that candidate's weight, in slot order
    (``sources`` / ``slots``: the candidates grouped by source, CSR); whole sources
    per thread."""
    n_prev, b_n = sources.shape[0] - 1, dx.shape[2]
    k_n, m_n = s.shape[1], s.shape[2]
    dprev = np.zeros((n_prev, b_n), dtype=dx.dtype)
    for p in prange(n_prev):
        for e in range(sources[p], sources[p + 1]):
            flat = slots[e]
            n, k, m = flat // (k_n * m_n), (flat // m_n) % k_n, flat % m_n
            w = s[n, k, m]
            for b in range(b_n):
                dprev[p, b] += dx[n, k, b] * w
    return dprev


if AVAILABLE:
    _dot = njit(cache=True)(_dot)
    _mix = njit(cache=True)(_mix)
    _basis_levels = njit(cache=True)(_basis_levels)
    _slot_gradients = njit(cache=True)(_slot_gradients)
    forward = njit(parallel=True, cache=True)(_forward)
    backward_params = njit(parallel=True, cache=True)(_backward_params)
    backward_inputs = njit(parallel=True, cache=True)(_backward_inputs)
else:  # pragma: no cover
    forward = backward_params = backward_inputs = None
