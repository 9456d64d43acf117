"""What a correct stream looks like, checked on recorded handshakes.

Kept free of cocotb so that its rules are unit-tested on their own: a scoreboard
that cannot fail would make every simulation pass.

The testbench records, per scenario, every *input handshake* (cycle, sample index)
and every *output handshake* (cycle, class id), plus the cycles where reset was
held. The rules:

- outputs come back in order, one per accepted input, each equal to the golden
  model's class for its sample (nothing lost, duplicated or reordered);
- an input accepted before or during a reset may vanish (reset empties the
  pipeline), but nothing that was accepted before reset may come out after it,
  and every input accepted after the last reset must come out;
- with no gaps and no stalls, every sample's latency is exactly the manifest's
  and the pipeline delivers one result per cycle;
- while reset is held, ``i.ready`` is low (a sample taken then would vanish) and,
  after the first reset edge, ``o.valid`` is low; ``i.ready`` and ``o.valid`` are
  never unknown (``x``/``z``, which only a 4-state simulator such as Icarus shows).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Scenario", "ScenarioRecord", "check_scenario", "SCENARIOS"]


@dataclass(frozen=True)
class Scenario:
    """One way of driving the stream. Probabilities are per cycle, seeded."""

    name: str
    p_gap: float = 0.0
    p_stall: float = 0.0
    reset_after: float | None = None  # reset once this fraction of samples was accepted
    reset_cycles: int = 3
    reset_at_start: int = 0  # cycles of reset before the first sample is offered
    path: str = "cocotb"  # "bulk": the compiled full-rate harness (lutmesh.sim.bulk)

    @property
    def full_rate(self) -> bool:
        return (self.p_gap == 0 and self.p_stall == 0 and self.reset_after is None
                and not self.reset_at_start)


SCENARIOS = (
    Scenario("full_rate", path="bulk"),
    Scenario("input_gaps", p_gap=0.3),
    Scenario("output_stalls", p_stall=0.3),
    Scenario("gaps_and_stalls", p_gap=0.25, p_stall=0.25),
    Scenario("reset_mid_stream", p_gap=0.1, p_stall=0.2, reset_after=0.5),
    # reset held while the first sample is offered, then 40% output stalls: in Icarus
    # this was an x in the credit count and a deadlock (see lutmesh.hdl.reset)
    Scenario("reset_then_stalls", p_stall=0.4, reset_at_start=8),
)


@dataclass
class ScenarioRecord:
    """Handshakes seen on the pins of the simulated design."""

    name: str
    accepted: list[tuple[int, int]] = field(default_factory=list)  # (cycle, sample index)
    produced: list[tuple[int, int]] = field(default_factory=list)  # (cycle, class id)
    resets: list[tuple[int, int]] = field(default_factory=list)  # [first, last] cycle held
    cycles: int = 0
    valid_during_reset: int = 0  # cycles where o.valid was high while reset was held
    ready_during_reset: int = 0  # cycles where i.ready was high while reset was held
    unknown_cycles: int = 0  # cycles where i.ready or o.valid read as x or z


def _epoch(cycle: int, resets: list[tuple[int, int]], *, output: bool) -> int:
    """Index of the reset epoch a handshake at ``cycle`` belongs to (0 = before any).

    An output taken in the first reset cycle left the pipeline at that very edge,
    before the reset emptied it, so it still belongs to the epoch before.
    """
    return sum(1 for first, _ in resets if (cycle > first if output else cycle >= first))


def check_scenario(rec: ScenarioRecord, expected: list[int], latency: int,
                   full_rate: bool) -> dict:
    """Judge one scenario; the result says what passed and shows the first failure."""
    mismatches, first_mismatch = 0, None
    lost = duplicated = 0
    problems: list[str] = []
    if rec.valid_during_reset:
        problems.append(f"o.valid high in {rec.valid_during_reset} cycles while reset was held")
    if rec.ready_during_reset:
        problems.append(f"i.ready high in {rec.ready_during_reset} cycles while reset was held")
    if rec.unknown_cycles:
        problems.append(f"i.ready or o.valid unknown (x/z) in {rec.unknown_cycles} cycles")

    # Split handshakes into reset epochs; inside an epoch the stream is a FIFO.
    # Inputs accepted while reset is held are flushed with everything else.
    n_epochs = len(rec.resets) + 1
    ins: list[list[tuple[int, int]]] = [[] for _ in range(n_epochs)]
    outs: list[list[tuple[int, int]]] = [[] for _ in range(n_epochs)]
    held = {c for first, last in rec.resets for c in range(first, last + 1)}
    for cycle, idx in rec.accepted:
        if cycle not in held:
            ins[_epoch(cycle, rec.resets, output=False)].append((cycle, idx))
    for cycle, cls in rec.produced:
        outs[_epoch(cycle, rec.resets, output=True)].append((cycle, cls))

    latencies = []
    for epoch in range(n_epochs):
        last_epoch = epoch == n_epochs - 1
        e_in, e_out = ins[epoch], outs[epoch]
        if len(e_out) > len(e_in):
            duplicated += len(e_out) - len(e_in)
        if last_epoch and len(e_out) < len(e_in):
            lost += len(e_in) - len(e_out)
        for (in_cycle, idx), (out_cycle, cls) in zip(e_in, e_out):
            latencies.append(out_cycle - in_cycle)
            if cls != expected[idx]:
                mismatches += 1
                if first_mismatch is None:
                    first_mismatch = {"sample": idx, "expected": expected[idx], "got": cls,
                                      "output_cycle": out_cycle}
    if duplicated:
        problems.append(f"{duplicated} outputs without a matching input (duplicated)")
    if lost:
        problems.append(f"{lost} accepted inputs never produced an output (lost)")
    if mismatches:
        problems.append(f"{mismatches} outputs differ from the golden model")

    throughput = None
    if len(rec.produced) >= 2:
        span = rec.produced[-1][0] - rec.produced[0][0]
        throughput = (len(rec.produced) - 1) / span if span else None
    if full_rate:
        bad_latency = sorted({lat for lat in latencies if lat != latency})
        if bad_latency:
            problems.append(f"latency {bad_latency} cycles, manifest says {latency}")
        if len(rec.produced) >= 2 and throughput != 1:
            problems.append(f"throughput {throughput} samples/cycle at full rate, expected 1")

    return {
        "scenario": rec.name,
        "passed": not problems,
        "problems": problems,
        "accepted": len(rec.accepted),
        "produced": len(rec.produced),
        "checked": min(sum(map(len, ins)), sum(map(len, outs))),
        "mismatches": mismatches,
        "lost": lost,
        "duplicated": duplicated,
        "first_mismatch": first_mismatch,
        "latency_min": min(latencies) if latencies else None,
        "latency_max": max(latencies) if latencies else None,
        "throughput_per_cycle": throughput,
        "resets": len(rec.resets),
        "cycles": rec.cycles,
    }
