"""Boards come from amaranth-boards: every iCE40/ECP5 board with a UART."""

import pytest

from lutmesh.boards.platforms import boards, get_board
from lutmesh.errors import ConfigError


def test_boards_named_in_the_issue_exist():
    known = boards()
    assert known["icebreaker"].device == "iCE40UP5K" and known["icebreaker"].family == "ice40"
    assert known["ulx3s-85f"].device == "LFE5U-85F" and known["ulx3s-85f"].bitstream_suffix == "bit"
    assert all(b.capacity_luts for b in known.values())
    with pytest.raises(ConfigError, match="unknown board 'nope'.*icebreaker"):
        get_board("nope")


def test_every_listed_board_has_a_uart_and_a_known_family():
    for name, board in boards().items():
        assert board.family in ("ice40", "ecp5"), name
        assert board.bitstream_suffix == ("bin" if board.family == "ice40" else "bit")
