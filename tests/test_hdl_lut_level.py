"""LutLevel: the first LUT level is a module of its own (a cut synthesis keeps)."""

from amaranth import Module, Signal
from amaranth.back import verilog
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lutmesh.hdl.lut_level import LutLevel

from hdl_bench import run_simulation


class TwoLevels(wiring.Component):
    a: In(4)
    y: Out(1)

    def elaborate(self, platform):
        m = Module()
        first = LutLevel(m, "first")
        w = first.wire(self.a[0] & self.a[1] | self.a[2], "w")
        q = Signal()
        m.d.sync += q.eq(w ^ self.a[3])
        m.d.comb += self.y.eq(q)
        return m


def test_the_first_level_is_its_own_module_with_a_named_wire():
    text = verilog.convert(TwoLevels(), name="top", emit_src=False)
    first = text[text.index("module \\top.first"):]
    first = first[:first.index("endmodule")]
    assert "output w;" in first  # the wire leaves the submodule: a cut synthesis keeps
    assert "\\top.first  first (" in text  # instantiated by the top


def test_logic_through_the_level_is_unchanged():
    dut = TwoLevels()
    got = []

    async def bench(ctx):
        for a in range(16):
            ctx.set(dut.a, a)
            await ctx.tick()
            got.append(ctx.get(dut.y))

    run_simulation(dut, bench)
    want = [int(((a & 1) & (a >> 1 & 1) | (a >> 2 & 1)) ^ (a >> 3 & 1)) for a in range(16)]
    assert got == want
