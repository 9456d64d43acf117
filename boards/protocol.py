"""The serial protocol between a host and a board running a lutmesh model.

One request frame per sample, one two-byte answer per frame, in frame order::

    host  -> board   0xA5, feature bytes..., checksum
    board -> host    'C', class id            (a classified sample)
                     'E', error code          (a dropped frame)

* Features are the netlist's quantised integers (``Netlist.quantize``), in feature
  order, each as ``ceil(bits / 8)`` bytes, little-endian.
* ``checksum`` makes the feature bytes and itself sum to 0 modulo 256.
* Bytes outside a frame (anything but 0xA5 while the board waits for a frame) are
  skipped: that, plus the inter-byte timeout, is how the link resynchronises after
  a damaged frame. The host sends a frame's bytes back to back; a gap longer than
  the timeout (16 byte times by default) inside a frame drops the frame with
  ``E_SHORT``.

The same functions serve the host client (:mod:`lutmesh.boards.client`) and the
pin-level testbench, so that what is tested is what is shipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["SYNC", "TAG_CLASS", "TAG_ERROR", "E_CHECKSUM", "E_SHORT", "E_RANGE", "E_FRAMING",
           "ERROR_NAMES", "feature_byte_counts", "encode_frame", "frames_for", "Answer",
           "decode_answers"]

SYNC = 0xA5
TAG_CLASS = ord("C")
TAG_ERROR = ord("E")
E_CHECKSUM = 1  # the bytes did not sum to 0 mod 256
E_SHORT = 2     # the frame stopped before its last byte (inter-byte timeout)
E_RANGE = 3     # a feature value does not fit its bit width
E_FRAMING = 4   # a byte of the frame had a low stop bit
ERROR_NAMES = {E_CHECKSUM: "checksum", E_SHORT: "short frame", E_RANGE: "feature out of range",
               E_FRAMING: "framing error"}


def feature_byte_counts(bits) -> list[int]:
    """Bytes per feature on the wire, from the quantiser's bit widths."""
    return [max(1, math.ceil(int(b) / 8)) for b in bits]


def encode_frame(bits, values) -> bytes:
    """One request frame for one sample of quantised feature integers."""
    counts = feature_byte_counts(bits)
    if len(values) != len(counts):
        raise ValueError(f"{len(values)} feature values for a model with {len(counts)} features")
    body = bytearray()
    for value, count in zip(values, counts):
        value = int(value)
        if value < 0 or value >= 1 << (8 * count):
            raise ValueError(f"feature value {value} does not fit {count} byte(s)")
        body += value.to_bytes(count, "little")
    return bytes([SYNC]) + bytes(body) + bytes([(-sum(body)) & 0xFF])


@dataclass(frozen=True)
class Answer:
    """One answer from the board: a class id, or the error code of a dropped frame."""

    cls: int | None = None
    error: int | None = None

    def __str__(self) -> str:
        if self.error is not None:
            return f"error {self.error} ({ERROR_NAMES.get(self.error, 'unknown')})"
        return f"class {self.cls}"


def decode_answers(data: bytes) -> tuple[list[Answer], bytes]:
    """Split received bytes into answers; return them and the unconsumed tail.

    A byte that is neither tag where a tag is due is a protocol violation (a board
    running something else, or a wrong baud rate): ``ValueError``.
    """
    answers = []
    pos = 0
    while pos + 2 <= len(data):
        tag, value = data[pos], data[pos + 1]
        if tag == TAG_CLASS:
            answers.append(Answer(cls=value))
        elif tag == TAG_ERROR:
            answers.append(Answer(error=value))
        else:
            raise ValueError(f"byte 0x{tag:02x} where an answer tag ('C' or 'E') was due; "
                             "is the board running a lutmesh build at this baud rate?")
        pos += 2
    return answers, bytes(data[pos:])


def frames_for(net, X_raw: np.ndarray) -> list[bytes]:
    """Request frames for raw samples, quantised exactly as the golden model does."""
    q = net.quantize(np.asarray(X_raw, dtype=np.float64))
    bits = net.quantizer.bits
    return [encode_frame(bits, row) for row in q]
