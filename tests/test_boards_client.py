"""The host side of `lutmesh run` against an in-memory board that speaks the protocol."""

import numpy as np
import pytest

from lutmesh.boards.client import run_samples
from lutmesh.boards.protocol import E_CHECKSUM, feature_byte_counts
from lutmesh.errors import ToolError
from lutmesh.samples import random_raw_inputs
from lutmesh.testing import random_netlist


class ProtocolBoard:
    """Decodes request frames and answers 'C' + class (``answer`` decides the class),
    holding answers back until asked: a board that is slower than the host."""

    def __init__(self, net, answer):
        self.net, self.answer = net, answer
        self.widths = feature_byte_counts(net.quantizer.bits)
        self.frame_len = 2 + sum(self.widths)
        self.inbox, self.outbox, self.frames, self.max_in_flight = b"", b"", 0, 0

    def write(self, data: bytes) -> None:
        self.inbox += data
        while len(self.inbox) >= self.frame_len:
            frame, self.inbox = self.inbox[:self.frame_len], self.inbox[self.frame_len:]
            values, pos = [], 1
            for w in self.widths:
                values.append(int.from_bytes(frame[pos:pos + w], "little"))
                pos += w
            self.outbox += self.answer(self.frames, np.array(values))
            self.frames += 1
        self.max_in_flight = max(self.max_in_flight, len(self.outbox) // 2)

    def read(self, n: int) -> bytes:
        chunk, self.outbox = self.outbox[:n], self.outbox[n:]
        return chunk


def _golden(net):
    return lambda i, q: b"C" + bytes([int(net.predict_quantized(q[None])[0])])


def test_every_answer_is_judged_against_the_golden_model_within_the_window():
    net = random_netlist(5, features=6)
    X = random_raw_inputs(net, 40, seed=1)
    board = ProtocolBoard(net, _golden(net))
    labels = net.predict(X)
    result = run_samples(board, net, X, labels, window=8)
    assert result.ok and result.samples == 40 and result.accuracy == 1.0
    assert board.max_in_flight <= 8


def test_wrong_classes_and_error_answers_are_counted_separately():
    net = random_netlist(5, features=6)
    X = random_raw_inputs(net, 20, seed=2)
    golden = _golden(net)

    def faulty(i, q):
        if i == 3:
            return bytes([ord("E"), E_CHECKSUM])
        if i == 7:
            return b"C" + bytes([(golden(i, q)[1] + 1) % net.n_classes])
        return golden(i, q)

    result = run_samples(ProtocolBoard(net, faulty), net, X)
    assert result.errors == [3] and result.mismatches == [7] and not result.ok


def test_a_silent_board_is_one_clear_error():
    net = random_netlist(5, features=6)
    X = random_raw_inputs(net, 5, seed=3)
    with pytest.raises(ToolError, match="no answer from the board .* after 0 of 5 samples"):
        run_samples(ProtocolBoard(net, lambda i, q: b""), net, X)
