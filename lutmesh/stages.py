"""The hardware's stages in data-flow order, for every per-stage table and chart.

Reports (LUTs per stage) and activity summaries (toggles per stage) name stages the
same way: ``input``, ``encoder``, ``layer0`` …, ``readout``, ``output_buffer``,
``credits``, ``control``, ``harness``.
"""

import re

__all__ = ["stage_sort_key"]

_RANK = {"input": 0, "encoder": 1, "readout": 3, "output_buffer": 4, "credits": 5,
         "control": 6, "harness": 7}


def stage_sort_key(name: str) -> tuple:
    """Sort key: data-flow order, layers by index, anything unknown among the layers."""
    m = re.fullmatch(r"layer(\d+)", name)
    return (_RANK.get(name, 2), int(m.group(1)) if m else 0, name)
