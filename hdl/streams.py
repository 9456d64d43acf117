"""Async helpers that drive and observe :mod:`amaranth.lib.stream` interfaces.

Used by every Amaranth-simulator testbench of lutmesh, so that handshakes are
written once: a transfer happens on the clock edge where ``valid & ready``.
"""

from __future__ import annotations

__all__ = ["stream_put", "stream_get"]


async def stream_put(ctx, stream, payload: int) -> None:
    """Offer ``payload`` (an integer of the payload's width) until it is taken."""
    ctx.set(stream.valid, 1)
    ctx.set(stream.payload.as_value() if hasattr(stream.payload, "as_value") else
            stream.payload, payload)
    await ctx.tick().until(stream.ready)
    ctx.set(stream.valid, 0)


async def stream_get(ctx, stream):
    """Accept one transfer and return the payload as seen on that clock edge."""
    ctx.set(stream.ready, 1)
    payload, = await ctx.tick().sample(stream.payload).until(stream.valid)
    ctx.set(stream.ready, 0)
    return payload
