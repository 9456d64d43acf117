"""The serial protocol: frames out, answers back (no toolchain)."""

import pytest

from lutmesh.boards.protocol import (SYNC, Answer, decode_answers, encode_frame,
                                     feature_byte_counts)


def test_frame_layout_and_checksum():
    frame = encode_frame([5, 8, 12], [17, 255, 0x0ABC])
    assert frame[0] == SYNC
    assert list(frame[1:-1]) == [17, 255, 0xBC, 0x0A]
    assert sum(frame[1:]) % 256 == 0
    assert feature_byte_counts([1, 8, 9, 16, 17]) == [1, 1, 2, 2, 3]
    with pytest.raises(ValueError, match="does not fit"):
        encode_frame([8], [256])
    with pytest.raises(ValueError, match="2 feature values"):
        encode_frame([8, 8, 8], [1, 2])


def test_answers_decode_and_keep_a_partial_tail():
    got, tail = decode_answers(b"C\x03E\x02C")
    assert got == [Answer(cls=3), Answer(error=2)] and tail == b"C"
    assert str(got[1]) == "error 2 (short frame)"
    with pytest.raises(ValueError, match="answer tag"):
        decode_answers(b"\x00\x01")
