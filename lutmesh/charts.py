"""Matplotlib, headless and deterministic: every stage's pictures go through here.

Pictures are written atomically and without a timestamp in the PNG, so the same
inputs give the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path

from .files import atomic_write_bytes

__all__ = ["pyplot", "save_figure"]


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display is needed or used)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | Path, *, dpi: int = 110) -> Path:
    """Write ``fig`` as a PNG at ``path`` (atomically) and close it."""
    path = Path(path)
    buf = io.BytesIO()
    # no timestamp in the PNG: the same inputs give the same bytes
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    atomic_write_bytes(path, buf.getvalue())
    pyplot().close(fig)
    return path
