"""Boards by name: every amaranth-boards iCE40 or ECP5 platform that has a UART.

Names come from the platform classes (``ICEBreakerPlatform`` -> ``icebreaker``,
``ULX3S_85F_Platform`` -> ``ulx3s-85f``), so a board added to amaranth-boards is
usable here without a change to lutmesh.
"""

import importlib
import pkgutil
import re
from dataclasses import dataclass
from functools import cache

from amaranth.vendor import LatticeECP5Platform, LatticeICE40Platform

from ..errors import ConfigError

__all__ = ["Board", "boards", "get_board", "DEVICE_LUTS"]

# LUT4s per device (vendor data sheets): the capacity a model is checked against.
DEVICE_LUTS = {
    "iCE40LP384": 384, "iCE40LP1K": 1280, "iCE40HX1K": 1280, "iCE40LP4K": 3520,
    "iCE40HX4K": 3520, "iCE40LP8K": 7680, "iCE40HX8K": 7680, "iCE40UP3K": 2800,
    "iCE40UP5K": 5280, "iCE5LP4K": 3520,
    "LFE5U-12F": 12288, "LFE5U-25F": 24288, "LFE5U-45F": 43848, "LFE5U-85F": 83640,
    "LFE5UM-25F": 24288, "LFE5UM-45F": 43848, "LFE5UM-85F": 83640,
    "LFE5UM5G-25F": 24288, "LFE5UM5G-45F": 43848, "LFE5UM5G-85F": 83640,
}


@dataclass(frozen=True)
class Board:
    name: str
    platform_class: type

    @property
    def family(self) -> str:
        return "ice40" if issubclass(self.platform_class, LatticeICE40Platform) else "ecp5"

    @property
    def device(self) -> str:
        return self.platform_class.device

    @property
    def capacity_luts(self) -> int | None:
        return DEVICE_LUTS.get(self.device)

    @property
    def bitstream_suffix(self) -> str:
        return "bin" if self.family == "ice40" else "bit"

    def platform(self):
        platform = self.platform_class()
        if self.name == "icebreaker":  # the LED/button PMOD ships attached
            platform.add_resources(platform.break_off_pmod)
        return platform


def _board_name(cls: type) -> str:
    return re.sub(r"_?Platform$", "", cls.__name__).lower().replace("_", "-")


@cache
def boards() -> dict[str, Board]:
    import amaranth_boards

    found = {}
    for info in pkgutil.iter_modules(amaranth_boards.__path__):
        if info.ispkg or info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"amaranth_boards.{info.name}")
        except Exception:  # a board file that does not import is not offered
            continue
        for obj in vars(module).values():
            if (isinstance(obj, type) and obj.__module__ == module.__name__
                    and not obj.__name__.startswith("_")
                    and issubclass(obj, (LatticeICE40Platform, LatticeECP5Platform))
                    and str(getattr(obj, "device", "")).startswith(("iCE", "LFE5"))
                    and any(r.name == "uart" for r in getattr(obj, "resources", []))):
                found[_board_name(obj)] = Board(_board_name(obj), obj)
    return dict(sorted(found.items()))


def get_board(name: str) -> Board:
    known = boards()
    if name not in known:
        raise ConfigError(f"unknown board {name!r}; boards with a UART: {', '.join(known)}")
    return known[name]
