"""Control registers whose reset is part of their next-value expression.

Amaranth writes a domain reset as a Verilog ``always @*`` block (``next = d; if (rst)
next = init;``) in front of each register. Yosys's Verilog wakes those blocks at time 0
through an initialised dummy register, which under SystemVerilog rules (``iverilog
-g2012``, cocotb's Icarus default) is no event: with ``rst`` held high from time 0 the
blocks never ran, every control register was clocked from their ``x``, and the ``x``
stayed in the credit count after reset (measured: a plain Verilog testbench with 40%
output stalls got 15 of 300 samples through, then ``i__ready`` was ``x`` for 4,000+
cycles; ``-g2005`` passed). A register assigned whole from one expression, with the
reset as a multiplexer in it, is emitted as a continuous ``assign`` plus ``always
@(posedge clk)``: evaluated at time 0 by every simulator, so reset clears it whatever
its data input holds. Synthesis sees the same synchronous reset as before.
"""

from __future__ import annotations

from amaranth import Module, Mux, ResetSignal, Signal

__all__ = ["reset_register", "control_register"]


def control_register(width: int, name: str) -> Signal:
    """A register for :func:`reset_register`: reset-less to Amaranth, init 0."""
    return Signal(width, name=name, reset_less=True)


def reset_register(m: Module, register: Signal, value) -> None:
    """``register <= value`` on every clock, ``<= init`` while the sync reset is high.

    ``register`` must be reset-less (the domain's reset would add the ``always @*``
    block back) and is assigned whole, once: a slice assignment is a process too.
    """
    if not register.reset_less:
        raise ValueError(f"register {register.name}: expected reset_less=True")
    rst = ResetSignal(allow_reset_less=True)
    m.d.sync += register.eq(Mux(rst, register.init, value))
