"""Grid-following placement: each mesh node's register pinned where its grid puts it.

nextpnr's placer sees a flat netlist and throws the mesh's geometry away. With
``--placement grid`` every node's flip-flop (the node's registered output, named
``core.layer{i}.l{i}_r{r}_c{c}`` after Yosys's ``flatten``) gets a ``BEL`` attribute,
nextpnr's generic absolute placement constraint (its ``docs/constraints.md``); the
iCE40 packer moves it to the logic cell that takes the LUT feeding that flip-flop,
so the node's LUT and register sit at that site. The YoWASP nextpnr build has no
Python, so region constraints (``ctx.constrainCellToRegion``) are out of reach.

Every layer is laid over the *same* rectangle of logic tiles, scaled to its own grid,
so a node sits over the nodes it reads (a local mesh's inputs lie within its
radius); each node takes the free logic cell nearest its grid position, filling at
most ``fill`` of a tile's 8 cells so that the other cells a tile's wiring needs stay
available. The encoder and readout stay free: the placer pulls them next to the
layers they connect to.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..files import atomic_write_text
from ..names import layer_names
from ..netlist import Netlist
from .routing import CORE_INSTANCE

__all__ = ["PLACEMENTS", "DIES", "node_flip_flops", "grid_bels", "write_constrained"]

PLACEMENTS = ("free", "grid")

# Logic-tile columns and rows per device (iCE40 UP5K: block RAM columns 6 and 19, I/O
# and DSP at x = 0 and 25, I/O rows 0 and 31); 8 logic cells ``lc0..lc7`` per tile.
DIES = {
    "ice40-up5k": {"xs": [x for x in range(1, 25) if x not in (6, 19)],
                   "ys": list(range(1, 31)), "cells": 8},
}


def node_flip_flops(design: dict, net: Netlist, top: str) -> dict[tuple[int, int], str]:
    """``{(layer, node): cell name}`` of each node's flip-flop in Yosys's flat JSON."""
    module = design["modules"][top]
    bit_of = {name: v["bits"][0] for name, v in module["netnames"].items()
              if len(v["bits"]) == 1}
    ff_of_q = {c["connections"]["Q"][0]: name for name, c in module["cells"].items()
               if c["type"].startswith("SB_DFF") and c["connections"].get("Q")}
    out = {}
    for i, names in enumerate(layer_names(net)):
        for n, name in enumerate(names):
            bit = bit_of.get(f"{CORE_INSTANCE}.layer{i}.{name}")
            if bit in ff_of_q:
                out[(i, n)] = ff_of_q[bit]
    return out


def _region(n_cells: int, aspect: float, die: dict, fill: int) -> tuple[int, int]:
    """Width and height in tiles of the rectangle the layers share."""
    tiles = math.ceil(n_cells / fill)
    width = min(len(die["xs"]), max(1, math.ceil(math.sqrt(tiles * aspect))))
    height = math.ceil(tiles / width)
    if height > len(die["ys"]):
        raise ConfigError(f"--placement grid: {n_cells} nodes do not fit the die")
    return width, height


def grid_bels(net: Netlist, ffs: dict[tuple[int, int], str], target: str,
              fill: int = 6) -> dict[str, str]:
    """``{flip-flop cell: BEL}``: each node at the free cell nearest its grid position."""
    die = DIES.get(target)
    if die is None:
        raise ConfigError(f"--placement grid: not available for {target} (only for "
                          f"{', '.join(DIES)})")
    rows, cols = net.layers[0].grid[:2]
    width, height = _region(len(ffs), cols / rows, die, fill)
    x0, y0 = 0, (len(die["ys"]) - height) // 2  # left edge, centred vertically
    tx, ty = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5, indexing="ij")
    tx, ty = tx.ravel(), ty.ravel()
    used = np.zeros(tx.size, dtype=int)
    bels = {}
    for (i, n), cell in sorted(ffs.items()):
        layer = net.layers[i]
        r, c = (int(v) for v in layer.positions[n])
        fx = (c + 0.5) / layer.grid[1] * width
        fy = (r + 0.5) / layer.grid[0] * height
        dist = (tx - fx) ** 2 + (ty - fy) ** 2 + np.where(used >= fill, np.inf, 0.0)
        t = int(np.argmin(dist))  # first minimum: deterministic
        x, y = die["xs"][x0 + t // height], die["ys"][y0 + t % height]
        bels[cell] = f"X{x}/Y{y}/lc{used[t]}"
        used[t] += 1
    return bels


def write_constrained(netlist_json: Path, out: Path, bels: dict[str, str], top: str) -> Path:
    """A copy of Yosys's JSON with a ``BEL`` attribute on every constrained cell."""
    design = json.loads(Path(netlist_json).read_text())
    cells = design["modules"][top]["cells"]
    for name, bel in bels.items():
        cells[name].setdefault("attributes", {})["BEL"] = bel
    atomic_write_text(out, json.dumps(design))
    return out
