"""Host side: stream samples to a board over a serial link and check every answer.

The link is anything with pyserial's ``write(bytes)`` and ``read(n)`` (a read
returns fewer bytes when its timeout passes): a real ``serial.Serial`` on
``/dev/ttyUSB1``, or the pseudo-terminal the pin-level simulation serves in tests.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError, ToolError
from ..netlist import Netlist
from .protocol import Answer, decode_answers, frames_for

__all__ = ["RunResult", "open_port", "run_samples"]


@dataclass
class RunResult:
    """What came back, judged against the golden model (and the labels, if any)."""

    answers: list[Answer]
    expected: np.ndarray
    labels: np.ndarray | None
    seconds: float
    mismatches: list[int] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)

    def __post_init__(self):
        for i, (a, e) in enumerate(zip(self.answers, self.expected)):
            if a.error is not None:
                self.errors.append(i)
            elif a.cls != int(e):
                self.mismatches.append(i)

    @property
    def samples(self) -> int:
        return len(self.answers)

    @property
    def accuracy(self) -> float | None:
        if self.labels is None or not self.answers:
            return None
        got = np.array([-1 if a.cls is None else a.cls for a in self.answers])
        return float((got == self.labels[:len(got)]).mean())

    @property
    def samples_per_s(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.errors and self.samples == len(self.expected)


def open_port(port: str, baud: int, timeout: float):
    """``serial.Serial`` for ``port``, or one clear error."""
    import serial

    try:
        return serial.Serial(port, baudrate=baud, timeout=timeout, write_timeout=timeout)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise ConfigError(f"--port {port}: cannot open it ({exc}); is the board plugged in "
                          "and is this its serial port (ls /dev/ttyUSB* /dev/ttyACM*)?") from None


def run_samples(link, net: Netlist, X_raw: np.ndarray, labels: np.ndarray | None = None, *,
                window: int = 8, timeout: float = 2.0, progress=None) -> RunResult:
    """Send every sample, keeping at most ``window`` frames unanswered; collect answers.

    A window keeps the board's small answer queue from ever filling, and the
    host's reads from blocking on answers that are not yet due.
    """
    frames = frames_for(net, X_raw)
    expected = net.predict(X_raw)
    answers: list[Answer] = []
    pending = b""
    sent = 0
    t0 = time.perf_counter()
    while len(answers) < len(frames):
        while sent < len(frames) and sent - len(answers) < window:
            link.write(frames[sent])
            sent += 1
        chunk = link.read(2 * (sent - len(answers)) - len(pending))
        if not chunk:
            raise ToolError(f"no answer from the board within {timeout:g} s after "
                            f"{len(answers)} of {len(frames)} samples; check the port, the "
                            "baud rate and that the board runs a lutmesh build of this model")
        try:
            new, pending = decode_answers(pending + chunk)
        except ValueError as exc:
            raise ToolError(str(exc)) from None
        answers += new
        if progress is not None and new:
            progress(len(new))
    return RunResult(answers[:len(frames)], expected, labels, time.perf_counter() - t0)
