"""The UART alone in Amaranth's simulator: transmitter into receiver, bytes in order."""

import pytest
from amaranth import Module
from amaranth.lib import wiring

from lutmesh.boards.uart import UARTReceiver, UARTTransmitter
from lutmesh.hdl.streams import stream_get, stream_put

from hdl_bench import run_simulation


class Loopback(wiring.Component):
    def __init__(self, divisor):
        self.tx = UARTTransmitter(divisor)
        self.rx = UARTReceiver(divisor)
        super().__init__({})

    def elaborate(self, platform):
        m = Module()
        m.submodules.tx, m.submodules.rx = self.tx, self.rx
        m.d.comb += self.rx.rx.eq(self.tx.tx)
        return m


@pytest.mark.parametrize("divisor", [4, 7])
def test_bytes_go_through_the_line_unchanged_and_in_order(divisor):
    dut = Loopback(divisor)
    data = [0x00, 0xFF, 0xA5, 0x5A, 0x01, 0x80, 0x3C]
    got, errors = [], []

    async def send(ctx):
        for b in data:
            await stream_put(ctx, dut.tx.i, b)

    async def receive(ctx):
        for _ in data:
            got.append(int(await stream_get(ctx, dut.rx.o)))

    async def watch(ctx):
        async for error, in ctx.tick().sample(dut.rx.error):
            if error:
                errors.append(1)

    sim_time = (len(data) + 2) * 10 * divisor * 1e-8
    run_simulation(dut, send, receive, until=sim_time)
    assert got == data and not errors


def test_a_divisor_too_small_to_sample_is_refused():
    with pytest.raises(ValueError, match="at least 4 clock cycles per bit"):
        UARTReceiver(3)
