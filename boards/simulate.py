"""The board design at its pins in Verilator: what a bitstream does, without a board.

``UartInference`` is emitted with a small UART divisor (a few clock cycles per bit,
so that a frame is hundreds of cycles, not hundreds of thousands), compiled with
the same cached Verilator build as ``lutmesh verify``, and driven by
:mod:`lutmesh.boards.testbench`.
"""

import json
from pathlib import Path

from amaranth.back import verilog

from ..netlist import Netlist
from ..sim.verilator import build_simulator, run_testbench
from .protocol import decode_answers
from .top import UartInference

__all__ = ["BoardSimulation", "SIM_DIVISOR"]

SIM_DIVISOR = 8  # clock cycles per bit in simulation
TOP = "lutmesh_board"


class BoardSimulation:
    """A compiled pin-level model of the board design for one netlist."""

    def __init__(self, net: Netlist, work_dir: str | Path, *, divisor: int = SIM_DIVISOR,
                 timeout_bytes: int = 16, log=None):
        self.net, self.divisor = net, divisor
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        design = UartInference(net, divisor, n_leds=2, heartbeat_bits=4,
                               timeout_bytes=timeout_bytes)
        self.timeout_cycles = timeout_bytes * 10 * divisor
        self.verilog = self.work_dir / f"{TOP}.v"
        self.verilog.write_text(verilog.convert(design, name=TOP, emit_src=False))
        self.build = build_simulator(self.verilog, TOP, log=log)

    def _run(self, job: dict, name: str) -> dict:
        job_path = self.work_dir / f"{name}.job.json"
        result_path = self.work_dir / f"{name}.result.json"
        job_path.write_text(json.dumps({"divisor": self.divisor, **job}))
        run_testbench(self.build, job_path, result_path, self.work_dir / name,
                      test_module="lutmesh.boards.testbench", env_prefix="LUTMESH_BOARD")
        return json.loads(result_path.read_text())

    def run_script(self, steps: list[dict], answers: int, name: str = "script"):
        """Play ``steps`` on rx; return the decoded answers and the raw result."""
        frame_cycles = 12 * 10 * self.divisor * (2 + sum(len(s.get("bytes", [])) for s in steps))
        result = self._run({"mode": "script", "steps": steps, "answers": answers,
                            "max_cycles": frame_cycles + 4 * self.timeout_cycles}, name)
        data = bytes(b for _, b in result["received"])
        got, tail = decode_answers(data)
        return got, tail, result

    def serve_pty(self, pty_path: str | Path, answers: int, idle_seconds: float = 60.0,
                  name: str = "pty") -> dict:
        """Serve the design on a pseudo-terminal until ``answers`` answers have gone out."""
        return self._run({"mode": "pty", "pty_path": str(pty_path), "answers": answers,
                          "idle_seconds": idle_seconds}, name)
