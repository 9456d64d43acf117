"""The golden model, bit-sliced: 64 samples per ``uint64`` word, for bulk checking.

:meth:`Netlist.predict_quantized <lutmesh.netlist.Netlist.predict_quantized>` keeps
one byte per (sample, node) and looks every node's table up by its input pattern; it
is the reference and stays the definition. Checking a million simulated classes with
it takes over a minute, so bulk verification uses this equivalent evaluation:

- every encoded bit becomes a row of words, bit ``j`` of word ``w`` being sample
  ``64 * w + j`` (``np.packbits``, little bit order);
- each layer evaluates all its nodes at once as boolean functions of their input
  rows, by Shannon expansion: a table of ``2**K`` bits is a mux tree, whose first
  level (input K-1) is ``t0 ^ ((t0 ^ t1) & x)`` with constant all-zero / all-one
  words ``t0``, ``t1``, and whose every further level (inputs K-2 .. 0) is
  ``a ^ ((a ^ b) & x)``. An unused input (``-1``) reads an all-zero row, as in
  the reference;
- the readout unpacks the last layer's bits per class group and sums them; the
  prediction is the first maximum (lowest class on a tie), as in the reference
  (with Numba, :mod:`.bitsliced_kernels` counts the votes in bit-sliced counters
  instead, and evaluates the layers node by node);
- payloads given as bit planes (:func:`predict_planes`, the bulk checker's random
  samples) are compared with the thresholds bit by bit, never unpacked to codes.

``tests/test_bitsliced.py`` checks it against the reference on random netlists (K 1
to 8, unused inputs, constant nodes, sample counts not a multiple of 64) and on a
trained model.
"""

from __future__ import annotations

import os
import time

import numpy as np

from . import bitsliced_kernels as kernels
from .errors import NetlistError
from .netlist import LutLayer, Netlist

__all__ = ["predict_bitsliced", "predict_planes", "encode_packed", "encode_planes", "layer_packed",
           "scores_packed", "classes_packed", "nodes_packed", "pack_rows", "unpack_rows",
           "row_ones", "warm_up", "BACKEND"]

# "numba": layers and readout in the compiled kernels of :mod:`.bitsliced_kernels`
# (1M digits samples: 0.04 s for both layers and 0.05 s for the readout, against
# 0.45 s and 0.18 s in numpy); "numpy" where Numba cannot load, or when
# LUTMESH_BITSLICED_BACKEND=numpy asks for it. Both give the same classes.
BACKEND = ("numba" if kernels.AVAILABLE and os.environ.get("LUTMESH_BITSLICED_BACKEND") != "numpy"
           else "numpy")

ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
# Samples per chunk (128 words per row) and the size of a block of nodes' temporaries:
# measured fastest on the digits model (2-core AMD EPYC, 512 KB L2 per core).
CHUNK = 8192
BLOCK_BYTES = 1 << 20
ENCODE_BYTES = 1 << 18


def _threshold_grid(net: Netlist) -> tuple[np.ndarray, np.ndarray]:
    """Thresholds as (T, F, 1) uint16 (T: most thresholds of a feature; missing ones
    0xFFFF) and, per encoded bit, its row ``t * F + f`` in that grid."""
    counts, F = net.encoder.counts, net.n_features
    grid = np.full((int(counts.max()), F, 1), 0xFFFF, dtype=np.uint16)
    for f, t in enumerate(net.encoder.thresholds):
        grid[:t.size, f, 0] = t  # all in 1..65535 (validated)
    slot = np.concatenate([np.arange(c) for c in counts])
    return grid, slot * F + net.encoder.bit_feature


def encode_packed(net: Netlist, q: np.ndarray) -> np.ndarray:
    """Thermometer bits of quantised samples (S, F) as rows of words (n_bits, ceil(S/64))."""
    q = np.asarray(q)
    grid, rows = _threshold_grid(net)
    out = np.zeros((grid.shape[0], grid.shape[1], -(-len(q) // 64) * 8), dtype=np.uint8)
    # slices of samples whose codes stay in cache (a wide image is kilobytes of int64)
    step = max(64, (ENCODE_BYTES // (8 * max(1, q.shape[1]))) // 64 * 64)
    for i in range(0, len(q), step):
        part = q[i:i + step]
        if part.size and (part.min() < 0 or part.max() > 0xFFFF):
            # keeps every bit: a threshold t is in 1..65535, so q < 0 and 0 fail
            # q >= t alike, and q > 65535 and 65535 pass it alike
            part = np.clip(part, 0, 0xFFFF)
        bits = np.ascontiguousarray(part.T, dtype=np.uint16) >= grid  # (T, F, samples)
        packed = np.packbits(bits, axis=2, bitorder="little")
        out[:, :, i // 8:i // 8 + packed.shape[2]] = packed
    out = out.reshape(grid.shape[0] * grid.shape[1], -1)[rows]  # encoded-bit order
    return out.view("<u8").astype(np.uint64, copy=False)


def _plane_encoder(net: Netlist, fields: np.ndarray, zero_row: int):
    """What :func:`encode_planes` compares, per bit level ``i`` (LSB first): the payload
    row holding bit ``i`` of each encoded bit's feature (``zero_row`` past the field)
    and an all-ones word where that bit of the encoded bit's threshold is 0."""
    fields = np.asarray(fields, dtype=np.int64).reshape(-1, 2)
    if len(fields) != net.n_features:
        raise NetlistError(f"payload fields: expected {net.n_features}, got {len(fields)}")
    grid, rows = _threshold_grid(net)
    thresholds = grid.reshape(-1)[rows].astype(np.int64)
    lsb, width = fields[net.encoder.bit_feature].T
    levels = max(int(width.max(initial=0)), int(thresholds.max(initial=0)).bit_length())
    level = np.arange(levels)[:, None]
    source = np.where(level < width, lsb + level, zero_row)
    clear = np.where((thresholds >> level) & 1, np.uint64(0), ONES).astype(np.uint64)
    return source, clear[:, :, None]


def encode_planes(net: Netlist, fields: np.ndarray, planes: np.ndarray, encoder=None) -> np.ndarray:
    """Thermometer bits (n_bits, W) straight from payload bits: ``planes`` (P, W), row
    ``p`` the rows of words of payload bit ``p``; ``fields`` (F, 2): each feature's
    (lsb, width) in the payload (width 0 reads 0).

    ``code >= t`` for a constant ``t``, bit-sliced from the LSB up: with ``ge`` the
    comparison of the bits seen so far, a bit where ``t`` is 1 needs ``x and ge``,
    one where it is 0 gives ``x or ge``, i.e. ``(x & ge) | (clear & (x ^ ge))``. No
    per-sample codes are made: for random payloads drawn as bit planes this replaces
    unpacking (1M digits payloads: 0.34 s) and the per-sample comparisons (0.2 s) by
    0.07 s of word operations.
    """
    source, clear = encoder if encoder is not None else _plane_encoder(net, fields, len(planes))
    padded = np.concatenate([planes, np.zeros((1, planes.shape[1]), dtype=np.uint64)])
    ge = np.full((source.shape[1], planes.shape[1]), ONES, dtype=np.uint64)
    for i in range(len(source)):
        x = padded[source[i]]
        diff = x ^ ge
        diff &= clear[i]
        x &= ge
        x |= diff
        ge = x
    return ge


def predict_planes(net: Netlist, fields: np.ndarray, blocks: np.ndarray, samples: int,
                   chunk: int = CHUNK) -> np.ndarray:
    """Class ids of ``samples`` payloads given as bit planes, 64 samples per block:
    ``blocks`` (ceil(samples/64), P) uint64, bit ``j`` of ``blocks[b, p]`` is payload
    bit ``p`` of sample ``64 * b + j``; ``fields`` as for :func:`encode_planes`.

    Equal to ``net.predict_quantized`` of the payloads' codes (tested so); the bulk
    checker's random samples are drawn in this form, so they are never unpacked.
    """
    if chunk < 64 or chunk % 64:
        raise ValueError(f"chunk = {chunk}: expected a positive multiple of 64")
    blocks = np.asarray(blocks, dtype=np.uint64)
    if len(blocks) * 64 < samples:
        raise ValueError(f"{len(blocks)} blocks of 64 hold fewer than {samples} samples")
    encoder = _plane_encoder(net, fields, blocks.shape[1])
    consts = [_first_level(layer) if BACKEND == "numpy" else None for layer in net.layers]
    out = np.empty(samples, dtype=np.int64)
    for i in range(0, samples, chunk):
        n = min(chunk, samples - i)
        rows = encode_planes(net, fields, np.ascontiguousarray(blocks[i // 64:-(-(i + n) // 64)].T),
                             encoder)
        out[i:i + n] = _classes_of_encoded(net, rows, consts, n)
    return out


def _first_level(layer: LutLayer, nodes=None) -> tuple[np.ndarray, np.ndarray]:
    """The top level of every node's (or of ``nodes``') mux tree as constant words,
    shape (2**(K-1), N, 1): ``t0`` (table entries with input K-1 low) and ``t0 ^ t1``
    (t1: input K-1 high)."""
    tables = layer.tables if nodes is None else layer.tables[nodes]
    t = (tables.astype(np.uint64) * ONES).T  # (2**K, N), 0 or all ones
    half = t.shape[0] // 2
    t0 = np.ascontiguousarray(t[:half])
    return t0[:, :, None], (t0 ^ t[half:])[:, :, None]


def _mux_tree(t0: np.ndarray, d: np.ndarray, sources: np.ndarray,
              padded: np.ndarray) -> np.ndarray:
    """Output rows (N, W) of N nodes whose first mux level is ``t0``, ``d`` (each
    (2**(K-1), N, 1)), reading rows ``sources`` (N, K) of ``padded``."""
    k = sources.shape[1]
    acc = d & padded[sources[:, k - 1]]
    acc ^= t0  # each entry a function of input K-1 only
    for slot in range(k - 2, -1, -1):
        half = len(acc) // 2
        a, b = acc[:half], acc[half:]
        b ^= a  # mux: a ^ ((a ^ b) & x), in place
        b &= padded[sources[:, slot]]
        b ^= a
        acc = b
    return acc[0]


def layer_packed(layer: LutLayer, prev: np.ndarray, consts=None) -> np.ndarray:
    """Every node's output row (N, W) from the previous layer's rows (N_prev, W).

    The mux tree runs from input K-1 down to input 0 on arrays (2**k, nodes, W), so
    both halves of every level are contiguous blocks; nodes go in blocks whose
    temporaries fit in about :data:`BLOCK_BYTES`. ``consts`` is :func:`_first_level`
    of the layer, passed in to reuse it across chunks.
    """
    width = prev.shape[1]
    padded = np.concatenate([prev, np.zeros((1, width), dtype=np.uint64)])
    rows = np.where(layer.inputs >= 0, layer.inputs, len(prev))  # -1: the zero row
    out = np.empty((layer.n_nodes, width), dtype=np.uint64)
    if BACKEND == "numba":
        kernels.layer_words(np.ascontiguousarray(layer.tables, dtype=np.uint8),
                            rows.astype(np.int64), padded, out)
        return out
    t0, d = consts if consts is not None else _first_level(layer)
    block = max(1, BLOCK_BYTES // (8 * len(t0) * width))
    for s in range(0, layer.n_nodes, block):
        out[s:s + block] = _mux_tree(t0[:, s:s + block], d[:, s:s + block],
                                     rows[s:s + block], padded)
    return out


def nodes_packed(layer: LutLayer, nodes: np.ndarray, padded: np.ndarray,
                 sources: np.ndarray) -> np.ndarray:
    """Output rows (len(nodes), W) of some of ``layer``'s nodes, reading rows
    ``sources`` (len(nodes), K) of ``padded`` (the caller's gathered, possibly
    changed, copy of the rows they read): what an incremental re-evaluation needs."""
    out = np.empty((len(nodes), padded.shape[1]), dtype=np.uint64)
    if BACKEND == "numba":
        kernels.layer_words(np.ascontiguousarray(layer.tables[nodes], dtype=np.uint8),
                            np.ascontiguousarray(sources, dtype=np.int64), padded, out)
        return out
    t0, d = _first_level(layer, nodes)
    block = max(1, BLOCK_BYTES // (8 * len(t0) * padded.shape[1]))
    for s in range(0, len(nodes), block):
        out[s:s + block] = _mux_tree(t0[:, s:s + block], d[:, s:s + block],
                                     sources[s:s + block], padded)
    return out


def pack_rows(bits: np.ndarray) -> np.ndarray:
    """Bits (S, N) as rows of words (N, ceil(S/64)); padding bits are 0."""
    bits = np.asarray(bits, dtype=np.uint8)
    words = -(-bits.shape[0] // 64)
    out = np.zeros((bits.shape[1], words * 8), dtype=np.uint8)
    packed = np.packbits(bits.T, axis=1, bitorder="little")
    out[:, :packed.shape[1]] = packed
    return out.view("<u8").astype(np.uint64, copy=False)


def unpack_rows(rows: np.ndarray, samples: int) -> np.ndarray:
    """Rows of words (N, W) back to bits (N, samples) uint8."""
    return np.unpackbits(np.ascontiguousarray(rows).view(np.uint8), axis=1, count=samples,
                         bitorder="little")


def row_ones(rows: np.ndarray, samples: int, block: int = 256) -> np.ndarray:
    """How many of each row's first ``samples`` bits are 1, shape (N,)."""
    return np.concatenate([unpack_rows(rows[s:s + block], samples).sum(axis=1, dtype=np.int64)
                           for s in range(0, len(rows), block)] + [np.zeros(0, np.int64)])


def scores_packed(net: Netlist, last: np.ndarray, samples: int) -> np.ndarray:
    """Per-class popcounts (C, samples) from the last layer's rows (N_last, W)."""
    groups = net.readout.groups
    bits = np.unpackbits(np.ascontiguousarray(last[np.concatenate(groups)]).view(np.uint8),
                         axis=1, count=samples, bitorder="little")  # (sum of groups, S)
    dtype = np.uint8 if max(g.size for g in groups) < 256 else np.uint32
    ends = np.cumsum([g.size for g in groups])
    # one sum of contiguous rows per class (np.add.reduceat over rows is ~80x slower)
    return np.stack([bits[e - g.size:e].sum(axis=0, dtype=dtype) for g, e in zip(groups, ends)])


def classes_packed(net: Netlist, last: np.ndarray, samples: int) -> np.ndarray:
    """Predicted classes (samples,) from the last layer's rows (N_last, W): the first
    class with the most votes, as ``np.argmax`` of :func:`scores_packed`."""
    if BACKEND == "numpy":
        return np.argmax(scores_packed(net, last, samples), axis=0)
    groups = net.readout.groups
    sizes = np.array([g.size for g in groups], dtype=np.int64)
    members = np.zeros((len(groups), max(1, int(sizes.max()))), dtype=np.int64)
    for c, g in enumerate(groups):
        members[c, :g.size] = g
    out = np.empty(samples, dtype=np.int64)
    kernels.class_words(np.ascontiguousarray(last), members, sizes, int(sizes.max()).bit_length(),
                        out)
    return out


def _classes_of_encoded(net: Netlist, rows: np.ndarray, consts: list, samples: int) -> np.ndarray:
    """Classes from the encoded bits' rows: every layer, then the readout."""
    for layer, c in zip(net.layers, consts):
        rows = layer_packed(layer, rows, c)
    return classes_packed(net, rows, samples)


def _predict_chunk(net: Netlist, q: np.ndarray, consts: list) -> np.ndarray:
    return _classes_of_encoded(net, encode_packed(net, q), consts, len(q))


def predict_bitsliced(net: Netlist, q: np.ndarray, chunk: int = CHUNK) -> np.ndarray:
    """Class ids from quantised samples (S, F): ``net.predict_quantized(q)``, bit-sliced."""
    q = np.asarray(q)
    if q.ndim != 2 or q.shape[1] != net.n_features:
        raise NetlistError(
            f"quantised data: expected shape (samples, {net.n_features}), got {q.shape}")
    if chunk < 64 or chunk % 64:
        raise ValueError(f"chunk = {chunk}: expected a positive multiple of 64")
    consts = [_first_level(layer) if BACKEND == "numpy" else None for layer in net.layers]
    out = np.empty(len(q), dtype=np.int64)
    for i in range(0, len(q), chunk):
        out[i:i + chunk] = _predict_chunk(net, q[i:i + chunk], consts)
    return out


def warm_up(net: Netlist) -> float:
    """Load the compiled kernels ``net`` needs, so that a timed run does not pay for it;
    returns the seconds it took.

    The first call of a kernel in a process loads it from Numba's cache (0.25-0.28 s
    on the 2-core AMD EPYC; compiling it, on a fresh install, takes longer): a one-time
    cost, like the harness build, that on 1M digits samples was a sixth of the bulk
    check's wall time when paid inside it. Free with the numpy backend.
    """
    t0 = time.perf_counter()
    if BACKEND == "numba":
        predict_bitsliced(net, np.zeros((1, net.n_features), dtype=np.int64))
    return time.perf_counter() - t0
