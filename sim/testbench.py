"""cocotb testbench for the ``Inference`` top, run inside the simulator.

It reads a job (JSON, path in ``LUTMESH_VERIFY_JOB``) written by
:mod:`lutmesh.sim.verify`: the input payloads, the golden model's classes, the
manifest's latency and the scenarios. It drives the stream pins, records every
handshake, and writes the records back (``LUTMESH_VERIFY_RESULT``); judging them
is :func:`~lutmesh.sim.scoreboard.check_scenario`'s job, so that this module stays
a thin, race-free layer over the pins.

Timing discipline (no races): everything is written just after the *falling*
edge, then the testbench waits for ``ReadOnly`` of that same time step and reads
the settled values. Nothing changes between then and the next rising edge, so
what is read is exactly what the rising edge will sample: a handshake is
``valid & ready`` as read there.
"""

from __future__ import annotations

import json
import os
import random
import time

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from .scoreboard import Scenario, ScenarioRecord


def _bit(handle) -> int | None:
    """A 1-bit pin as 0/1, or None when it is x or z (Icarus is 4-state)."""
    value = handle.value
    return int(value) if value.is_resolvable else None


class StreamSource:
    """Drives ``i__valid``/``i__payload`` with seeded random gaps; counts handshakes."""

    def __init__(self, dut, payloads: list[int], p_gap: float, rng: random.Random):
        self.valid, self.payload, self.ready = dut.i__valid, dut.i__payload, dut.i__ready
        self.payloads, self.p_gap, self.rng = payloads, p_gap, rng
        self.next = 0
        self.offering = False
        self.written = None  # index of the payload on the pins (writes are not free)

    def drive(self) -> None:
        """Called after a falling edge: offer the next sample, or a gap."""
        if self.next >= len(self.payloads):
            self.offering = False
        elif not self.offering:  # a stream source may not withdraw an offer
            self.offering = self.rng.random() >= self.p_gap
        self.valid.value = int(self.offering)
        if self.offering and self.written != self.next:
            self.payload.value = self.payloads[self.next]
            self.written = self.next

    def sample(self) -> int | None:
        """Called in ReadOnly: the index of the sample accepted this cycle, if any."""
        if self.offering and _bit(self.ready):
            self.offering = False
            self.next += 1
            return self.next - 1
        return None


class StreamSink:
    """Drives ``o__ready`` with seeded random stalls; takes results on handshakes."""

    def __init__(self, dut, class_width: int, p_stall: float, rng: random.Random):
        self.valid, self.payload, self.ready = dut.o__valid, dut.o__payload, dut.o__ready
        self.class_width = class_width
        self.p_stall, self.rng = p_stall, rng
        self.taking = True

    def drive(self) -> None:
        self.taking = self.rng.random() >= self.p_stall
        self.ready.value = int(self.taking)

    def sample(self) -> int | None:
        if self.taking and _bit(self.valid):
            bits = str(self.payload.value)[-self.class_width:]  # MSB first
            return int(bits, 2) if set(bits) <= {"0", "1"} else -1  # -1: x/z, a mismatch
        return None


async def run_scenario(dut, job: dict, scenario: Scenario, seed: int) -> ScenarioRecord:
    payloads = [int(p, 16) for p in job["payloads"]]
    rng = random.Random(f"{seed}:{scenario.name}")
    source = StreamSource(dut, payloads, scenario.p_gap, rng)
    sink = StreamSink(dut, job["class_width"], scenario.p_stall, rng)
    rec = ScenarioRecord(scenario.name)
    n = len(payloads)
    reset_at = None if scenario.reset_after is None else max(1, int(n * scenario.reset_after))
    reset_left = scenario.reset_at_start
    if reset_left:
        rec.resets.append((0, reset_left - 1))
    idle = 0
    max_idle = 64 * (job["latency"] + 8)
    cycle = 0
    while True:
        await FallingEdge(dut.clk)
        if reset_at is not None and len(rec.accepted) >= reset_at and not rec.resets:
            reset_left = scenario.reset_cycles
            rec.resets.append((cycle, cycle + scenario.reset_cycles - 1))
        dut.rst.value = int(reset_left > 0)
        source.drive()
        sink.drive()
        await ReadOnly()
        ready, valid = _bit(dut.i__ready), _bit(dut.o__valid)
        rec.unknown_cycles += ready is None or valid is None
        accepted = source.sample()
        produced = sink.sample()
        if reset_left > 0:
            reset_left -= 1
            # Registers are held in reset at this cycle's edge; o.valid comes from
            # a register, so after the first reset edge it must read low.
            if rec.resets and cycle > rec.resets[-1][0] and valid:
                rec.valid_during_reset += 1
            rec.ready_during_reset += bool(ready)
        if accepted is not None:
            rec.accepted.append((cycle, accepted))
        if produced is not None:
            rec.produced.append((cycle, produced))
        idle = 0 if (accepted is not None or produced is not None) else idle + 1
        cycle += 1
        done_sending = source.next >= n and reset_left == 0
        if done_sending and idle > job["latency"] + 4:
            break
        if idle > max_idle:  # a hung pipeline: stop and let the scoreboard say what is lost
            break
    rec.cycles = cycle
    return rec


@cocotb.test()
async def stream_matches_golden_model(dut):
    job = json.loads(open(os.environ["LUTMESH_VERIFY_JOB"]).read())
    Clock(dut.clk, 10, unit="ns").start()
    dut.i__valid.value = 0
    dut.o__ready.value = 0
    dut.rst.value = 1
    for _ in range(2):
        await RisingEdge(dut.clk)
    results = []
    for spec in job["scenarios"]:
        scenario = Scenario(**spec)
        await FallingEdge(dut.clk)
        dut.rst.value = 1
        dut.i__valid.value = 0
        await FallingEdge(dut.clk)
        dut.rst.value = 0
        t0 = time.perf_counter()
        rec = await run_scenario(dut, job, scenario, job["seed"])
        wall = time.perf_counter() - t0
        results.append({"name": rec.name, "accepted": rec.accepted, "produced": rec.produced,
                        "resets": rec.resets, "cycles": rec.cycles,
                        "valid_during_reset": rec.valid_during_reset,
                        "ready_during_reset": rec.ready_during_reset,
                        "unknown_cycles": rec.unknown_cycles, "wall_seconds": wall})
    tmp = os.environ["LUTMESH_VERIFY_RESULT"] + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"scenarios": results}, f)
    os.replace(tmp, os.environ["LUTMESH_VERIFY_RESULT"])
