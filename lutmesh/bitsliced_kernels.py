"""The bit-sliced golden model's layer and readout, compiled by Numba.

:mod:`lutmesh.bitsliced` evaluates a layer as numpy operations on whole
``(2**k, nodes, words)`` blocks: every mux level writes a temporary as large as the
block, so the model streams through memory many times (1M digits samples: layers
0.38 s, readout 0.18 s on the 2-core AMD EPYC, against 2.2 s of CPU for the
harness that simulates them). These kernels walk one node at a time over a short
run of words, keeping the mux tree in a buffer that stays in L1, and count the
class votes with bit-sliced counters (a ripple increment per voter, then a
bit-sliced comparison for the first maximum), so only the rows themselves move.

Same results as the numpy functions, bit for bit (tests compare them); the numpy
path stays the fallback where Numba cannot load.
"""

from __future__ import annotations

import numpy as np

try:  # numba is a dependency; numpy (lutmesh.bitsliced) is the fallback
    from numba import njit
except ImportError:  # pragma: no cover - exercised by LUTMESH_BITSLICED_BACKEND=numpy
    njit = None

__all__ = ["AVAILABLE", "layer_words", "class_words"]

AVAILABLE = njit is not None
ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
# Words per inner run: a K = 6 tree's buffer (32 x 64 words, 16 KB) stays in L1.
RUN = 64


def _layer_words(tables, rows, padded, out):
    """``out[n]``: node ``n``'s output words, its table ``tables[n]`` (2**K of 0/1,
    input K-1 the most significant index bit) read at ``padded[rows[n]]``."""
    n_nodes, k = rows.shape
    half = tables.shape[1] // 2
    width = padded.shape[1]
    acc = np.empty((max(half, 1), RUN), dtype=np.uint64)
    for n in range(n_nodes):
        for w0 in range(0, width, RUN):
            m = min(RUN, width - w0)
            top = padded[rows[n, k - 1], w0:w0 + m]
            for j in range(half):
                t0 = ONES if tables[n, j] else np.uint64(0)
                d = t0 ^ (ONES if tables[n, j + half] else np.uint64(0))
                for i in range(m):
                    acc[j, i] = t0 ^ (d & top[i])
            h = half
            for slot in range(k - 2, -1, -1):
                x = padded[rows[n, slot], w0:w0 + m]
                h //= 2
                for j in range(h):
                    for i in range(m):
                        a = acc[j, i]
                        acc[j, i] = a ^ ((a ^ acc[j + h, i]) & x[i])
            for i in range(m):
                out[n, w0 + i] = acc[0, i]


def _class_words(last, members, sizes, bits, out):
    """``out[s]``: the first class with the most votes for sample ``s`` (``out`` has
    64 entries per word of ``last``).

    ``members`` (C, G): each class's voter rows of ``last``, ``sizes[c]`` of them;
    ``bits``: counter width (the largest group fits). Votes are counted per word in
    bit-sliced counters, classes compared MSB first; a later class wins only with
    strictly more votes, so ties go to the lowest class, as in the reference.
    """
    n_classes = members.shape[0]
    width = last.shape[1]
    cbits = 1
    while (1 << cbits) < n_classes:
        cbits += 1
    count = np.zeros((bits, RUN), dtype=np.uint64)
    best = np.zeros((bits, RUN), dtype=np.uint64)
    idx = np.zeros((cbits, RUN), dtype=np.uint64)
    gt = np.zeros(RUN, dtype=np.uint64)
    eq = np.zeros(RUN, dtype=np.uint64)
    for w0 in range(0, width, RUN):
        m = min(RUN, width - w0)
        for c in range(n_classes):
            count[:, :m] = 0
            for r in range(sizes[c]):
                row = last[members[c, r], w0:w0 + m]
                for i in range(m):
                    carry = row[i]
                    for b in range(bits):
                        t = count[b, i] & carry
                        count[b, i] ^= carry
                        carry = t
            if c == 0:
                best[:, :m] = count[:, :m]
                idx[:, :m] = 0
                continue
            for i in range(m):
                gt[i] = 0
                eq[i] = ONES
            for b in range(bits - 1, -1, -1):
                for i in range(m):
                    a, e = count[b, i], best[b, i]
                    gt[i] |= eq[i] & a & ~e
                    eq[i] &= ~(a ^ e)
            for b in range(bits):
                for i in range(m):
                    best[b, i] ^= (best[b, i] ^ count[b, i]) & gt[i]
            for b in range(cbits):
                cb = ONES if (c >> b) & 1 else np.uint64(0)
                for i in range(m):
                    idx[b, i] ^= (idx[b, i] ^ cb) & gt[i]
        for i in range(m):
            base = 64 * (w0 + i)
            for j in range(64):
                if base + j >= out.shape[0]:
                    break
                v = 0
                for b in range(cbits):
                    v |= int((idx[b, i] >> np.uint64(j)) & np.uint64(1)) << b
                out[base + j] = v


if AVAILABLE:
    layer_words = njit(cache=True)(_layer_words)
    class_words = njit(cache=True)(_class_words)
else:  # pragma: no cover
    layer_words = class_words = None
