"""stream_put / stream_get: one transfer per valid & ready edge, nothing lost."""

from amaranth.lib import fifo

from lutmesh.hdl.streams import stream_get, stream_put

from hdl_bench import run_simulation


def test_values_pass_through_a_fifo_in_order_under_back_pressure():
    dut = fifo.SyncFIFOBuffered(width=8, depth=3)
    values = [3, 250, 0, 17, 99, 42, 8]
    got = []

    async def producer(ctx):
        for v in values:
            await stream_put(ctx, dut.w_stream, v)

    async def consumer(ctx):
        for k in range(len(values)):
            for _ in range(k % 3):  # stall: the producer must wait, not drop
                await ctx.tick()
            got.append(int(await stream_get(ctx, dut.r_stream)))

    run_simulation(dut, producer, consumer)
    assert got == values
