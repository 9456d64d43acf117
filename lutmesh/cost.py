"""What a model will cost on an iCE40, estimated before it is trained.

``lutmesh report`` counts LUT4s exactly, by synthesising the emitted core; that takes a
trained netlist and a Yosys run. Sizing a model to a budget (``lutmesh train
--lut-budget``) needs the count before training, so this module estimates it from the
layer sizes alone, with per-part costs measured by ``synth_ice40`` on this project's
own cores (seed 0, digits unless stated):

* a node of K <= 4 inputs is one LUT4 (layer 0 of the default: 494 nodes, 490 LUT4s);
  K = 5 about 2.7 and K = 6 about 5.3 (digits at K = 5 and K = 6, readout and encoder
  taken off); K = 7 and 8 are extrapolated, doubling per input, as a LUT4 tree grows;
* the readout (popcount and argmax, ``hdl/readout.py``) about 2.07 LUT4s per voter
  plus 5.6 per class: fitted to 160, 320, 560 and 640 voters for ten classes
  (387, 705, 1,165, 1,379 LUT4s; the fit is within 4% of each);
* an encoded bit (one threshold of one feature) by its feature's width: one LUT4 up to
  4 bits (a truth table), 1.37 at 5 bits (237 for digits' 173 bits), and almost none
  wider, where a compare with a constant maps to a carry chain (Fashion-MNIST's 8-bit
  pixels: 604 bits in 15 LUT4s; the chains' cells are counted as carries);
* the output buffer, credit counter and control 76 LUT4s.

Those carry cells are outside the LUT4 count but each takes an iCE40 logic cell, so
:func:`estimate_encoder_carries` counts them apart. Fashion-MNIST sized for 3,900
LUT4s synthesised to 13,098 encoder carries (29,517 logic cells in all with the
few-pin harness, where an UP5K has 5,280): 6.1 per threshold that survived pruning
(2,143), 3.46 per threshold before it (3,783), which is what the estimate sees; so
0.43 per bit of the feature's width and threshold, for widths above 5 (other widths
than 8 extrapolated from that one measurement).

Before training every node counts and pruning then removes those nobody reads, so the
estimate errs high: 2,177 for the digits default ``8x8x6,4x4x29``, which synthesises
to 2,119 (2,582 for the earlier ``8x8x8,4x4x35``: 2,527; 2,846 for ``8x8x8,4x4x40``:
2,824). The first layer reads at most K bits per
node, so at most that many encoded bits are counted.
"""

from __future__ import annotations

import math

__all__ = ["NODE_LUT4", "encoder_lut4_per_bit", "estimate_ice40_luts", "estimate_encoder_carries",
           "scale_layers_to_budget"]

NODE_LUT4 = {2: 1.0, 3: 1.0, 4: 1.0, 5: 2.7, 6: 5.3, 7: 10.6, 8: 21.2}
READOUT_PER_VOTER = 2.07
READOUT_PER_CLASS = 5.6
ENCODER_LUT4_BY_WIDTH = {1: 1.0, 2: 1.0, 3: 1.0, 4: 1.0, 5: 1.37}
TRUTH_TABLE_WIDTH = max(ENCODER_LUT4_BY_WIDTH)  # wider features compare on a carry chain
ENCODER_LUT4_WIDE = 0.03  # wider than 5 bits: a carry chain
ENCODER_CARRIES_PER_WIDTH_BIT = 0.43  # of those chains, per bit of the feature's width
FIXED = 76  # output buffer, credit counter, control


def encoder_lut4_per_bit(width: int) -> float:
    """LUT4s of one thermometer bit of a ``width``-bit feature."""
    return ENCODER_LUT4_BY_WIDTH.get(int(width), ENCODER_LUT4_WIDE)


def _bits_read(layer_nodes: list[int], lut_inputs: int, n_bits: int) -> float:
    """Share of the encoded bits the first layer can read (K per node at most)."""
    return min(1.0, lut_inputs * layer_nodes[0] / max(1, n_bits))


def estimate_encoder_carries(layer_nodes: list[int], lut_inputs: int, bit_widths) -> int:
    """Estimated iCE40 carry cells of the encoder's compares: none up to 5-bit features
    (truth tables), a chain per threshold of a wider one. Not part of the LUT4 count,
    but each takes a logic cell."""
    bit_widths = list(bit_widths)
    wide = sum(int(w) for w in bit_widths if int(w) > TRUTH_TABLE_WIDTH)
    read = _bits_read(layer_nodes, lut_inputs, len(bit_widths))
    return int(round(read * ENCODER_CARRIES_PER_WIDTH_BIT * wide))


def estimate_ice40_luts(layer_nodes: list[int], lut_inputs: int, bit_widths,
                        n_classes: int) -> dict[str, int]:
    """Estimated iCE40 LUT4s by part, and ``"total"``, of a core with these sizes;
    ``bit_widths``: each encoded bit's feature width."""
    bit_widths = list(bit_widths)
    read = _bits_read(layer_nodes, lut_inputs, len(bit_widths))
    parts = {
        "encoder": read * sum(encoder_lut4_per_bit(w) for w in bit_widths),
        "nodes": NODE_LUT4[lut_inputs] * sum(layer_nodes),
        "readout": READOUT_PER_VOTER * layer_nodes[-1] + READOUT_PER_CLASS * n_classes,
        "fixed": FIXED,
    }
    out = {name: int(round(v)) for name, v in parts.items()}
    out["total"] = sum(out.values())
    return out


def _scaled(specs, factor: float, n_classes: int) -> list[tuple[int, int, int]]:
    """Every layer's channels times ``factor`` (at least one; the last layer keeps at
    least one voter per class)."""
    out = []
    for i, spec in enumerate(specs):
        channels = max(1, math.floor(spec.channels * factor))
        if i == len(specs) - 1:
            channels = max(channels, math.ceil(n_classes / (spec.rows * spec.cols)))
        out.append((spec.rows, spec.cols, channels))
    return out


def scale_layers_to_budget(specs, lut_inputs: int, bit_widths, n_classes: int,
                           budget: int) -> tuple[str, dict[str, int]]:
    """``(layers, estimate)``: the layers with every layer's channels scaled down by one
    common factor, the largest whose estimate fits ``budget``; unchanged if they fit.

    One factor for all layers keeps the model's shape, which was chosen for the data;
    on digits, trading hidden nodes for voters or back lost accuracy in both directions
    (README, training section). Raises ``ValueError`` if even one channel per layer
    does not fit.
    """
    def estimate(layers):
        return estimate_ice40_luts([r * c * ch for r, c, ch in layers], lut_inputs,
                                   bit_widths, n_classes)

    def spell(layers):
        return ",".join(f"{r}x{c}x{ch}" for r, c, ch in layers)

    full = _scaled(specs, 1.0, n_classes)
    if estimate(full)["total"] <= budget:
        return spell(full), estimate(full)
    smallest = _scaled(specs, 0.0, n_classes)
    if estimate(smallest)["total"] > budget:
        raise ValueError(f"even {spell(smallest)} needs ~{estimate(smallest)['total']} "
                         f"iCE40 LUT4s, more than the budget of {budget}")
    low, high = 0.0, 1.0  # low fits, high does not
    for _ in range(40):
        mid = (low + high) / 2
        low, high = (mid, high) if estimate(_scaled(specs, mid, n_classes))["total"] <= budget \
            else (low, mid)
    best = _scaled(specs, low, n_classes)
    return spell(best), estimate(best)
