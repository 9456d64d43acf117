"""cocotb testbench for the board design at its pins, run inside the simulator.

The job (JSON, path in ``LUTMESH_BOARD_JOB``) says what to do on the serial line:

* ``"script"``: a list of steps, each ``{"bytes": [...]}`` (sent back to back),
  ``{"bad_stop": byte}`` (a byte whose stop bit is low), ``{"glitch": cycles}`` (a
  short low pulse, not a start bit) or ``{"idle": cycles}``; the run ends when
  ``answers`` answers have come back or ``max_cycles`` have passed;
* ``"pty"``: serve a pseudo-terminal, whose path is written to ``pty_path``: bytes a
  host writes there go out on ``rx``, bytes decoded from ``tx`` are written back.
  The run ends when ``answers`` answers have gone back, or after ``idle_seconds`` of
  wall time without a byte from the host.

Every byte decoded from ``tx`` is recorded with its cycle and written to
``LUTMESH_BOARD_RESULT``. Bits are driven by waiting whole clock cycles (one
trigger per bit, not per cycle), and ``tx`` is sampled in the middle of each bit,
as a real UART would.
"""

import json
import os
import time
import tty

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge


class SerialLine:
    """Drives ``rx`` and decodes ``tx`` at ``divisor`` cycles per bit."""

    def __init__(self, dut, divisor: int):
        self.dut, self.divisor = dut, divisor
        self.received: list[tuple[int, int]] = []  # (cycle, byte)
        self.cycle = 0
        self.on_byte = None

    async def count_cycles(self):
        while True:
            await ClockCycles(self.dut.clk, 1000)
            self.cycle += 1000

    async def send(self, byte: int, stop: int = 1):
        for bit in [0] + [(byte >> k) & 1 for k in range(8)] + [stop]:
            self.dut.rx.value = bit
            await ClockCycles(self.dut.clk, self.divisor)
        self.dut.rx.value = 1
        if not stop:  # let the receiver see the line idle again
            await ClockCycles(self.dut.clk, self.divisor)

    async def glitch(self, cycles: int):
        self.dut.rx.value = 0
        await ClockCycles(self.dut.clk, cycles)
        self.dut.rx.value = 1
        await ClockCycles(self.dut.clk, self.divisor)

    async def monitor(self):
        while True:
            await FallingEdge(self.dut.tx)
            await ClockCycles(self.dut.clk, self.divisor // 2)
            if int(self.dut.tx.value) != 0:
                raise AssertionError("tx: a start bit shorter than half a bit")
            value = 0
            for k in range(8):
                await ClockCycles(self.dut.clk, self.divisor)
                value |= int(self.dut.tx.value) << k
            await ClockCycles(self.dut.clk, self.divisor)
            if int(self.dut.tx.value) != 1:
                raise AssertionError(f"tx: byte 0x{value:02x} has a low stop bit")
            self.received.append((self.cycle, value))
            if self.on_byte is not None:
                self.on_byte(value)


@cocotb.test()
async def board_pins(dut):
    job = json.loads(open(os.environ["LUTMESH_BOARD_JOB"]).read())
    line = SerialLine(dut, job["divisor"])
    dut.rx.value = 1
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    await ClockCycles(dut.clk, 4)
    dut.rst.value = 0
    await ClockCycles(dut.clk, 4)
    cocotb.start_soon(line.count_cycles())
    cocotb.start_soon(line.monitor())
    want = 2 * job["answers"]

    if job["mode"] == "script":
        for step in job["steps"]:
            if "bytes" in step:
                for b in step["bytes"]:
                    await line.send(b)
            elif "bad_stop" in step:
                await line.send(step["bad_stop"], stop=0)
            elif "glitch" in step:
                await line.glitch(step["glitch"])
            elif "idle" in step:
                await ClockCycles(dut.clk, step["idle"])
        while len(line.received) < want and line.cycle < job["max_cycles"]:
            await ClockCycles(dut.clk, 10 * job["divisor"])
    else:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        tmp = job["pty_path"] + ".tmp"
        with open(tmp, "w") as f:
            f.write(os.ttyname(slave))
        os.replace(tmp, job["pty_path"])
        line.on_byte = lambda value: os.write(master, bytes([value]))
        last_host = time.monotonic()
        while len(line.received) < want:
            try:
                data = os.read(master, 4096)
            except BlockingIOError:
                data = b""
            if data:
                last_host = time.monotonic()
                for b in data:
                    await line.send(b)
            else:
                if time.monotonic() - last_host > job["idle_seconds"]:
                    break
                await ClockCycles(dut.clk, 10 * job["divisor"])
        await ClockCycles(dut.clk, 20 * job["divisor"])  # let the last bytes drain
        os.close(slave)
        os.close(master)

    with open(os.environ["LUTMESH_BOARD_RESULT"], "w") as f:
        json.dump({"received": line.received, "cycles": line.cycle}, f)
