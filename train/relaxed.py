"""The differentiable relaxation of a LUT layer, with a hand-written backward pass.

A K-input LUT with table ``T`` is, on real inputs ``x in [0, 1]^K``, replaced by its
multilinear extension ``p(x) = sum_a T_a prod_k (x_k if a_k else 1 - x_k)``: exact
on bits, smooth in between, and linear in the table, whose entries are ``sigmoid(w)``.
Each input slot may also choose among ``M`` local candidate sources through a
softmax; a length cost on that choice lets short links win ties.

Shapes: B samples, N nodes, K inputs, M candidates, P previous-layer outputs.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import numpy as np
from scipy import sparse

from . import kernels
from ..errors import ConfigError
from .wiring import Wiring

__all__ = ["RelaxedLutLayer", "sigmoid", "default_backend", "BACKENDS"]

DTYPE = np.float32
BACKENDS = ("numba", "numpy")


def default_backend() -> str:
    """``numba`` (fused kernels, :mod:`.kernels`) where Numba loads, else ``numpy``;
    the environment variable ``LUTMESH_TRAIN_BACKEND`` chooses explicitly."""
    chosen = os.environ.get("LUTMESH_TRAIN_BACKEND") or ("numba" if kernels.AVAILABLE
                                                         else "numpy")
    if chosen not in BACKENDS or (chosen == "numba" and not kernels.AVAILABLE):
        raise ConfigError(f"LUTMESH_TRAIN_BACKEND={chosen!r}: expected "
                          f"{' or '.join(BACKENDS) if kernels.AVAILABLE else 'numpy'}")
    return chosen


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class RelaxedLutLayer:
    """Parameters and forward/backward of one relaxed layer.

    Parameters
    ----------
    wiring : Wiring
        Candidate sources per slot, shape (N, K, M).
    n_prev : int
        Number of previous-layer outputs (P).
    init_std : float
        Standard deviation of the table logits at start (small is better: the
        tables start near 0.5 and gradients reach every entry).
    rng : numpy Generator
    backend : str, optional
        ``numba`` or ``numpy`` (default: :func:`default_backend`). Both compute the
        same function; their float32 results differ in the last bits.
    """

    def __init__(self, wiring: Wiring, n_prev: int, init_std: float, rng: np.random.Generator,
                 backend: str | None = None):
        self.backend = backend or default_backend()
        self.cand = wiring.candidates
        self.dist = wiring.distance.astype(DTYPE)
        n, k, m = self.cand.shape
        self.n, self.k, self.m, self.n_prev = n, k, m, n_prev
        self.w = (rng.standard_normal((n, 1 << k)) * init_std).astype(DTYPE)
        self.a = np.zeros((n, k, m), dtype=DTYPE) if m > 1 else None
        # scatter matrix (P, N*K*M): sums gradients of every candidate into its source
        flat = self.cand.ravel()
        self._scatter = sparse.csr_matrix(
            (np.ones(flat.size, dtype=DTYPE), (flat, np.arange(flat.size))),
            shape=(n_prev, flat.size))
        # the same map for the kernels: slots grouped by source, in slot order
        order = np.argsort(flat, kind="stable")
        self._by_source = (np.concatenate([[0], np.cumsum(np.bincount(flat, minlength=n_prev))]),
                           order)

    # -- parameters -------------------------------------------------------------

    def params(self) -> list[np.ndarray]:
        return [self.w] if self.a is None else [self.w, self.a]

    def choice(self) -> np.ndarray | None:
        """Softmax weights over candidates, (N, K, M)."""
        if self.a is None:
            return None
        z = self.a - self.a.max(axis=2, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=2, keepdims=True)

    # -- forward / backward -----------------------------------------------------

    def forward(self, x_prev: np.ndarray) -> tuple[np.ndarray, tuple]:
        if self.backend == "numba":
            return self._forward_kernel(x_prev)
        s = self.choice()
        if s is None:
            g = None
            x = x_prev[:, self.cand[:, :, 0]]                      # (B, N, K)
        else:
            g = x_prev[:, self.cand]                                # (B, N, K, M)
            x = np.einsum("bnkm,nkm->bnk", g, s, optimize=True)
        basis = [np.ones(x.shape[:2] + (1,), dtype=DTYPE)]
        for j in range(self.k):
            xj = x[:, :, j:j + 1]
            p = basis[-1]
            basis.append(np.concatenate([p * (1 - xj), p * xj], axis=2))
        t = sigmoid(self.w)
        out = np.einsum("bnj,nj->bn", basis[-1], t, optimize=True)
        return out, (x, g, s, basis, t)

    def backward(self, dout: np.ndarray, cache: tuple, length_cost: float = 0.0,
                 need_input_grad: bool = True):
        """Gradients of the parameters (same order as :meth:`params`) and of ``x_prev``."""
        if self.backend == "numba":
            return self._backward_kernel(dout, cache, length_cost, need_input_grad)
        x, g, s, basis, t = cache
        dw = np.einsum("bn,bnj->nj", dout, basis[-1], optimize=True) * (t * (1 - t))
        grads = [dw.astype(DTYPE)]
        if not need_input_grad and s is None:
            return grads, None
        gcur = dout[:, :, None] * t[None, :, :]                      # d loss / d basis_K
        dx = np.empty_like(x)
        for j in range(self.k - 1, -1, -1):
            half = 1 << j
            g0, g1 = gcur[:, :, :half], gcur[:, :, half:]
            dx[:, :, j] = ((g1 - g0) * basis[j]).sum(axis=2)
            xj = x[:, :, j:j + 1]
            gcur = g0 * (1 - xj) + g1 * xj
        if s is not None:
            ds = np.einsum("bnk,bnkm->nkm", dx, g, optimize=True)
            ds += length_cost * self.dist / (self.n * self.k)
            da = s * (ds - (ds * s).sum(axis=2, keepdims=True))
            grads.append(da.astype(DTYPE))
        if not need_input_grad:
            return grads, None
        if s is None:  # M == 1: each slot reads its one candidate
            flat = dx.reshape(dx.shape[0], -1)
        else:
            flat = (dx[:, :, :, None] * s[None]).reshape(dx.shape[0], -1)
        dprev = (self._scatter @ flat.T).T
        return grads, np.asarray(dprev, dtype=DTYPE)

    def _weights(self) -> np.ndarray:
        s = self.choice()
        return np.ones(self.cand.shape, dtype=DTYPE) if s is None else s

    def _forward_kernel(self, x_prev: np.ndarray) -> tuple[np.ndarray, tuple]:
        """Numba path: works on (features, samples) arrays, so that every inner loop
        runs over contiguous samples; a transposed view in, a transposed view out, and
        no copy between layers."""
        s, t = self._weights(), sigmoid(self.w)
        xt = np.ascontiguousarray(x_prev.T, dtype=DTYPE)
        with self._threads(xt.shape[1]):
            out, xmix = kernels.forward(xt, self.cand, s, t)
        return out.T, (xt, xmix, s, t)

    def _backward_kernel(self, dout: np.ndarray, cache: tuple, length_cost: float,
                         need_input_grad: bool):
        xt, xmix, s, t = cache
        dout_t = np.ascontiguousarray(dout.T, dtype=DTYPE)
        with self._threads(xt.shape[1]):
            dw, ds, dx = kernels.backward_params(dout_t, xmix, xt, self.cand, s, t)
        grads = [(dw * (t * (1 - t))).astype(DTYPE)]
        if self.a is not None:
            ds += length_cost * self.dist / (self.n * self.k)
            grads.append((s * (ds - (ds * s).sum(axis=2, keepdims=True))).astype(DTYPE))
        if not need_input_grad:
            return grads, None
        with self._threads(xt.shape[1]):
            return grads, kernels.backward_inputs(dx, s, *self._by_source).T

    @contextmanager
    def _threads(self, samples: int):
        from numba import get_num_threads, set_num_threads

        before = get_num_threads()
        set_num_threads(kernels.threads_for(self.n * samples << self.k))
        try:
            yield
        finally:
            set_num_threads(before)

    def length_penalty(self) -> float:
        s = self.choice()
        return 0.0 if s is None else float((s * self.dist).sum() / (self.n * self.k))

    # -- hardening ----------------------------------------------------------------

    def hard_inputs(self) -> np.ndarray:
        """Each slot's chosen source (argmax of the choice; nearest wins a tie)."""
        if self.a is None:
            return self.cand[:, :, 0].copy()
        key = self.a.astype(np.float64) - 1e-9 * self.dist
        return np.take_along_axis(self.cand, key.argmax(axis=2)[:, :, None], axis=2)[:, :, 0]

    def hard_tables(self) -> np.ndarray:
        return (self.w > 0).astype(np.uint8)

    @staticmethod
    def hard_forward(bits: np.ndarray, inputs: np.ndarray, tables: np.ndarray) -> np.ndarray:
        k = inputs.shape[1]
        index = (bits[:, inputs].astype(np.int64) << np.arange(k)).sum(axis=2)
        return tables[np.arange(len(tables)), index]
