"""A small 8N1 UART: a receiver and a transmitter with stream interfaces.

Ours rather than a library's: the ``amaranth-stdio`` name on PyPI is an empty
placeholder, and what the board top needs is small — bytes in and out as
:mod:`amaranth.lib.stream` transfers, plus a framing-error pulse so that the frame
decoder can drop a frame whose bytes arrived damaged.

``divisor`` is clock cycles per bit (``clk_hz // baud``); the receiver samples each
bit in its middle, so clocks up to about ±4 % apart still agree over a byte.
"""


from amaranth import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["UARTReceiver", "UARTTransmitter"]


def _check_divisor(divisor: int) -> int:
    divisor = int(divisor)
    if divisor < 4:
        raise ValueError(f"UART divisor = {divisor}: at least 4 clock cycles per bit are needed")
    return divisor


class UARTReceiver(wiring.Component):
    """Serial line in, one byte per stream transfer out.

    A byte is offered until taken; one that arrives while the previous one is still
    untaken replaces it (the consumer here is always ready). A start bit that is
    gone at its middle is a glitch and ignored. A byte whose stop bit is low is not
    delivered: ``error`` pulses instead, and the receiver waits for the line to go
    idle (high) before it looks for the next start bit, so a break never reads as a
    stream of zero bytes.

    Attributes
    ----------
    rx : In(1)
        The serial line (idle high); synchronised here with two flip-flops.
    o : Out(stream.Signature(8))
    error : Out(1)
        One-cycle pulse on a framing error.
    """

    rx: In(1, init=1)
    o: Out(stream.Signature(8))
    error: Out(1)

    def __init__(self, divisor: int):
        self.divisor = _check_divisor(divisor)
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        sync1 = Signal(init=1)
        line = Signal(init=1)
        m.d.sync += [sync1.eq(self.rx), line.eq(sync1)]

        timer = Signal(range(self.divisor + 1))
        bits = Signal(8)
        count = Signal(range(9))

        with m.If(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        m.d.sync += self.error.eq(0)

        with m.FSM(name="uart_rx"):
            with m.State("IDLE"):
                with m.If(~line):
                    m.d.sync += timer.eq(self.divisor // 2 - 1)
                    m.next = "START"
            with m.State("START"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(line):  # gone by mid-bit: a glitch
                    m.next = "IDLE"
                with m.Else():
                    m.d.sync += [timer.eq(self.divisor - 1), count.eq(0)]
                    m.next = "DATA"
            with m.State("DATA"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += [timer.eq(self.divisor - 1), bits.eq(bits >> 1 | line << 7),
                                 count.eq(count + 1)]
                    with m.If(count == 7):
                        m.next = "STOP"
            with m.State("STOP"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(line):
                    m.d.sync += [self.o.payload.eq(bits), self.o.valid.eq(1)]
                    m.next = "IDLE"
                with m.Else():
                    m.d.sync += self.error.eq(1)
                    m.next = "BREAK"
            with m.State("BREAK"):
                with m.If(line):
                    m.next = "IDLE"
        return m


class UARTTransmitter(wiring.Component):
    """One byte per stream transfer in, serial line out (start, 8 data LSB first, stop).

    Attributes
    ----------
    i : In(stream.Signature(8))
    tx : Out(1)
        Idle high.
    """

    i: In(stream.Signature(8))
    tx: Out(1, init=1)

    def __init__(self, divisor: int):
        self.divisor = _check_divisor(divisor)
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        timer = Signal(range(self.divisor))
        frame = Signal(10, init=0x3FF)  # stop, data[7:0], start; shifted out LSB first
        left = Signal(range(11))

        m.d.comb += self.i.ready.eq(left == 0)
        m.d.comb += self.tx.eq(frame[0])
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [frame.eq(1 << 9 | self.i.payload << 1), left.eq(10),
                         timer.eq(self.divisor - 1)]
        with m.Elif(left != 0):
            with m.If(timer != 0):
                m.d.sync += timer.eq(timer - 1)
            with m.Else():
                m.d.sync += [frame.eq(frame >> 1 | 1 << 9), left.eq(left - 1),
                             timer.eq(self.divisor - 1)]
        return m
