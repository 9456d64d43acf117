"""The board top: a UART, the frame protocol, and the ``Inference`` core.

Data path::

    rx -> UARTReceiver -> FrameDecoder -> Inference -> AnswerQueue -> AnswerSerializer
                                \\______ error codes ______/                 -> UARTTransmitter -> tx

``UartInference`` has only pins (``rx``, ``tx``, ``leds``), so the very design
that goes into a bitstream is what the pin-level Verilator test drives; ``BoardTop``
just connects it to a board's resources.

Answers leave in frame order. The core answers a frame ``latency`` cycles after its
last byte, while the next frame's earliest possible error comes two bytes (20 bit
times) later; the constructor checks that the second is longer, and the queue
gives the core priority when both arrive in the same cycle.
"""


from amaranth import Cat, Elaboratable, Module, Mux, Signal
from amaranth.build import ResourceError
from amaranth.lib import data, fifo, io, stream, wiring
from amaranth.lib.wiring import In, Out, connect

from ..hdl.inference import Inference, feature_layout
from ..netlist import Netlist
from .protocol import (E_CHECKSUM, E_FRAMING, E_RANGE, E_SHORT, SYNC, TAG_CLASS, TAG_ERROR,
                       feature_byte_counts)
from .uart import UARTReceiver, UARTTransmitter

__all__ = ["FrameDecoder", "AnswerQueue", "AnswerSerializer", "UartInference", "BoardTop"]

ANSWER_LAYOUT = data.StructLayout({"value": 8, "error": 1})


class FrameDecoder(wiring.Component):
    """Bytes in; one feature payload per good frame, or one error code per bad one.

    Attributes
    ----------
    i : In(stream.Signature(8))
        Received bytes.
    rx_error : In(1)
        The receiver's framing-error pulse.
    o : Out(stream.Signature(feature_layout(net)))
    error : Out(stream.Signature(8))
        Error codes of dropped frames (:mod:`~lutmesh.boards.protocol`).
    """

    def __init__(self, net: Netlist, timeout_cycles: int):
        self._bits = [int(b) for b in net.quantizer.bits]
        self._counts = feature_byte_counts(self._bits)
        self._timeout = int(timeout_cycles)
        super().__init__({"i": In(stream.Signature(8)), "rx_error": In(1),
                          "o": Out(stream.Signature(feature_layout(net))),
                          "error": Out(stream.Signature(8))})

    def elaborate(self, platform):
        m = Module()
        n_bytes = sum(self._counts)
        buf = Signal(8 * n_bytes, reset_less=True)  # meaningless until a frame fills it
        total = Signal(8)
        got = Signal(range(n_bytes + 1))
        idle = Signal(range(self._timeout + 1))

        # feature fields and the bits above each field, which must be zero
        fields, spare = [], []
        pos = 0
        for b, c in zip(self._bits, self._counts):
            fields.append(buf[8 * pos:8 * pos + b])
            if 8 * c > b:
                spare.append(buf[8 * pos + b:8 * (pos + c)])
            pos += c
        out_of_range = Cat(*spare).any() if spare else 0
        m.d.comb += self.o.payload.eq(Cat(*fields))

        byte = self.i.payload
        take = self.i.valid & self.i.ready

        with m.FSM(name="frame"):
            with m.State("IDLE"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(take & (byte == SYNC)):
                    m.d.sync += [total.eq(0), got.eq(0), idle.eq(0)]
                    m.next = "FRAME"
            with m.State("FRAME"):  # feature bytes, then the checksum byte
                m.d.comb += self.i.ready.eq(1)
                m.d.sync += idle.eq(idle + 1)
                with m.If(self.rx_error):
                    m.d.sync += self.error.payload.eq(E_FRAMING)
                    m.next = "ERROR"
                with m.Elif(take & (got != n_bytes)):
                    m.d.sync += [buf.eq(Cat(buf[8:], byte)), total.eq(total + byte),
                                 got.eq(got + 1), idle.eq(0)]
                with m.Elif(take):
                    with m.If(((total + byte) & 0xFF) != 0):
                        m.d.sync += self.error.payload.eq(E_CHECKSUM)
                        m.next = "ERROR"
                    with m.Elif(out_of_range):
                        m.d.sync += self.error.payload.eq(E_RANGE)
                        m.next = "ERROR"
                    with m.Else():
                        m.next = "OFFER"
                with m.Elif(idle == self._timeout):
                    m.d.sync += self.error.payload.eq(E_SHORT)
                    m.next = "ERROR"
            with m.State("OFFER"):
                m.d.comb += self.o.valid.eq(1)
                with m.If(self.o.ready):
                    m.next = "IDLE"
            with m.State("ERROR"):
                m.d.comb += self.error.valid.eq(1)
                with m.If(self.error.ready):
                    m.next = "IDLE"
        return m


class AnswerQueue(wiring.Component):
    """Class ids from the core and error codes, merged in order into a FIFO.

    The core wins a same-cycle tie: its frame came first (see the module docstring).
    """

    def __init__(self, class_width: int, depth: int = 16):
        self._class_width = class_width
        self._depth = depth
        super().__init__({"cls": In(stream.Signature(class_width)),
                          "error": In(stream.Signature(8)),
                          "o": Out(stream.Signature(ANSWER_LAYOUT))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.fifo = q = fifo.SyncFIFOBuffered(width=ANSWER_LAYOUT.size, depth=self._depth)
        entry = Signal(ANSWER_LAYOUT)
        m.d.comb += [
            self.cls.ready.eq(q.w_rdy),
            self.error.ready.eq(q.w_rdy & ~self.cls.valid),
            q.w_en.eq(self.cls.valid | self.error.valid),
            entry.value.eq(Mux(self.cls.valid, self.cls.payload, self.error.payload)),
            entry.error.eq(~self.cls.valid),
            q.w_data.eq(entry),
            self.o.valid.eq(q.r_rdy),
            self.o.payload.eq(q.r_data),
            q.r_en.eq(self.o.ready),
        ]
        return m


class AnswerSerializer(wiring.Component):
    """Each answer as two bytes: a tag ('C' or 'E') and the class id or error code."""

    i: In(stream.Signature(ANSWER_LAYOUT))
    o: Out(stream.Signature(8))

    def elaborate(self, platform):
        m = Module()
        second = Signal()
        m.d.comb += [
            self.o.valid.eq(self.i.valid),
            self.o.payload.eq(Mux(second, self.i.payload.value,
                                  Mux(self.i.payload.error, TAG_ERROR, TAG_CLASS))),
            self.i.ready.eq(second & self.o.ready),
        ]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += second.eq(~second)
        return m


class UartInference(wiring.Component):
    """The whole board design behind three pins: serial in, serial out, LEDs.

    Parameters
    ----------
    net : Netlist
    divisor : int
        Clock cycles per UART bit (``clk_hz // baud``).
    n_leds : int
        LED 0 is a heartbeat; LEDs 1.. show the last class id, LSB first.
    heartbeat_bits : int
        LED 0 toggles every ``2**heartbeat_bits`` cycles (about 1 Hz on a board).
    timeout_bytes : int
        Inter-byte gap, in byte times, that drops a frame as short.

    Attributes
    ----------
    rx : In(1), tx : Out(1), leds : Out(n_leds)
    """

    def __init__(self, net: Netlist, divisor: int, *, n_leds: int = 0, heartbeat_bits: int = 22,
                 timeout_bytes: int = 16, layers_per_stage: int = 1,
                 readout_stages: int | None = None):
        self.net = net
        self.divisor = int(divisor)
        self.core = Inference(net, layers_per_stage=layers_per_stage,
                              readout_stages=readout_stages)
        if 20 * self.divisor <= self.core.latency + 2:
            raise ValueError(f"UART divisor {self.divisor} is too small for a core latency of "
                             f"{self.core.latency} cycles: answers could leave out of order")
        self._n_leds = int(n_leds)
        self._heartbeat_bits = int(heartbeat_bits)
        self._timeout = int(timeout_bytes) * 10 * self.divisor
        members = {"rx": In(1, init=1), "tx": Out(1, init=1)}
        if n_leds:
            members["leds"] = Out(n_leds)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.rx = rx = UARTReceiver(self.divisor)
        m.submodules.decoder = decoder = FrameDecoder(self.net, self._timeout)
        m.submodules.core = core = self.core
        m.submodules.answers = answers = AnswerQueue(core.readout.class_width)
        m.submodules.serializer = serializer = AnswerSerializer()
        m.submodules.tx = tx = UARTTransmitter(self.divisor)

        m.d.comb += [rx.rx.eq(self.rx), self.tx.eq(tx.tx), decoder.rx_error.eq(rx.error)]
        connect(m, rx.o, decoder.i)
        connect(m, decoder.o, core.i)
        connect(m, decoder.error, answers.error)
        m.d.comb += [answers.cls.valid.eq(core.o.valid), answers.cls.payload.eq(core.o.payload.cls),
                     core.o.ready.eq(answers.cls.ready)]
        connect(m, answers.o, serializer.i)
        connect(m, serializer.o, tx.i)

        if self._n_leds:
            beat = Signal(self._heartbeat_bits + 1)
            last = Signal(core.readout.class_width)
            m.d.sync += beat.eq(beat + 1)
            with m.If(core.o.valid & core.o.ready):
                m.d.sync += last.eq(core.o.payload.cls)
            m.d.comb += self.leds.eq(Cat(beat[-1], last))
        return m


class BoardTop(Elaboratable):
    """``UartInference`` on a board from amaranth-boards: clock, UART pins, LEDs."""

    def __init__(self, net: Netlist, baud: int = 115200, **options):
        self.net, self.baud, self.options = net, int(baud), options

    def elaborate(self, platform):
        m = Module()
        divisor = round(platform.default_clk_frequency / self.baud)
        leds = []
        while True:
            try:
                leds.append(platform.request("led", len(leds), dir="-"))
            except ResourceError:
                break
        m.submodules.design = design = UartInference(
            self.net, divisor, n_leds=len(leds),
            heartbeat_bits=max(1, int(platform.default_clk_frequency).bit_length() - 2),
            **self.options)
        uart = platform.request("uart", 0, dir="-")
        m.submodules.rx_buffer = rx = io.Buffer("i", uart.rx)
        m.submodules.tx_buffer = tx = io.Buffer("o", uart.tx)
        m.d.comb += [design.rx.eq(rx.i), tx.o.eq(design.tx)]
        for n, led in enumerate(leds):
            m.submodules[f"led{n}_buffer"] = buf = io.Buffer("o", led)
            m.d.comb += buf.o.eq(design.leds[n])
        return m
