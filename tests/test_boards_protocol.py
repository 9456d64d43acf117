"""The serial protocol, the board list and the pre-P&R fit check (no toolchain)."""

import pytest

from lutmesh.boards.build import estimate_luts
from lutmesh.boards.platforms import boards, get_board
from lutmesh.boards.protocol import (SYNC, Answer, decode_answers, encode_frame,
                                     feature_byte_counts)
from lutmesh.cli import main
from lutmesh.errors import ConfigError
from lutmesh.testing import random_netlist


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


def test_boards_named_in_the_issue_exist():
    known = boards()
    assert known["icebreaker"].device == "iCE40UP5K" and known["icebreaker"].family == "ice40"
    assert known["ulx3s-85f"].device == "LFE5U-85F" and known["ulx3s-85f"].bitstream_suffix == "bit"
    assert all(b.capacity_luts for b in known.values())
    with pytest.raises(ConfigError, match="unknown board 'nope'.*icebreaker"):
        get_board("nope")


def test_build_refuses_a_model_too_big_for_the_part_before_pnr(tmp_path, capsys):
    net = random_netlist(1, features=12, layers=2, nodes_per_layer=900, k=6, classes=4)
    model = net.save(tmp_path / "big.npz")
    assert estimate_luts(net) > get_board("icestick").capacity_luts
    assert main(["build", str(model), "--board", "icestick", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "does not fit icestick" in err and "1,280 available" in err
    assert not (tmp_path / "b").exists()


def test_build_and_run_usage_errors(tmp_path, capsys):
    assert main(["build", "--list-boards"]) == 0
    assert "ulx3s-85f" in capsys.readouterr().out
    assert main(["build", "--board", "icebreaker"]) == 2
    model = random_netlist(2).save(tmp_path / "m.npz")
    assert main(["run", str(model), "--port", str(tmp_path / "no-such-tty")]) == 2
    assert "cannot open it" in capsys.readouterr().err
    assert main(["run", str(model), "--port", "x", "--samples", "0"]) == 2
    assert main(["build", str(model), "--board", "icebreaker", "--baud", "12"]) == 2
