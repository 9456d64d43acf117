"""The board design at its pins in Verilator (UART, frame decoder, answer queue, the
inference core), and the host client through a pseudo-terminal."""

import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from lutmesh.boards.protocol import (E_CHECKSUM, E_FRAMING, E_RANGE, E_SHORT, SYNC, Answer,
                                     encode_frame)
from lutmesh.boards.simulate import BoardSimulation
from lutmesh.testing import random_inputs, random_netlist

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def board_sim(tmp_path_factory):
    # features of 1..6 bits (so out-of-range bytes exist) and 2-5 classes
    net = random_netlist(7, features=9, layers=2, classes=5)
    assert min(net.quantizer.bits) < 8
    return BoardSimulation(net, tmp_path_factory.mktemp("board"))


def test_pin_level_matches_golden_model_and_recovers_from_bad_frames(board_sim):
    net = board_sim.net
    bits = net.quantizer.bits
    q = random_inputs(net, 300, seed=3)
    expected_cls = net.predict_quantized(q)
    rng = np.random.default_rng(0)
    narrow = int(np.argmin(bits))
    steps, expected = [], []
    for i, row in enumerate(q):
        frame = list(encode_frame(bits, row))
        if i % 30 == 5:  # bad checksum
            steps.append({"bytes": frame[:-1] + [(frame[-1] + 1) & 0xFF]})
            expected.append(Answer(error=E_CHECKSUM))
        elif i % 30 == 11:  # short frame, then silence past the timeout
            steps += [{"bytes": frame[:3]}, {"idle": board_sim.timeout_cycles + 200}]
            expected.append(Answer(error=E_SHORT))
        elif i % 30 == 17:  # a feature value above its bit width (checksum still right)
            bad = row.copy()
            body = list(encode_frame(bits, bad))
            body[1 + narrow] = 1 << int(bits[narrow])
            body[-1] = (-sum(body[1:-1])) & 0xFF
            steps.append({"bytes": body})
            expected.append(Answer(error=E_RANGE))
        elif i % 30 == 23:  # a byte with a low stop bit inside the frame
            steps += [{"bytes": frame[:2]}, {"bad_stop": frame[2]}, {"idle": 50}]
            expected.append(Answer(error=E_FRAMING))
        elif i % 30 == 29:  # noise between frames and a glitch: skipped, then a good frame
            noise = [int(b) for b in rng.integers(0, 256, 3) if b != SYNC]
            steps += [{"bytes": noise}, {"glitch": 2}, {"bytes": frame}]
            expected.append(Answer(cls=int(expected_cls[i])))
        else:
            steps.append({"bytes": frame})
            expected.append(Answer(cls=int(expected_cls[i])))
    got, tail, result = board_sim.run_script(steps, len(expected))
    assert tail == b""
    assert len(got) == len(expected) == 300
    wrong = [(i, str(g), str(e)) for i, (g, e) in enumerate(zip(got, expected)) if g != e]
    assert wrong == []
    assert sum(a.error is None for a in got) == 260  # 4 bad frames in every 30


def test_pin_level_catches_a_wrong_model(board_sim):
    """The check above can fail: another model's answers differ on these samples."""
    other = random_netlist(8, features=9, layers=2, classes=5)
    q = random_inputs(board_sim.net, 60, seed=4)
    steps = [{"bytes": list(encode_frame(board_sim.net.quantizer.bits, row))} for row in q]
    got, _, _ = board_sim.run_script(steps, len(q), name="wrong")
    assert [a.cls for a in got] == board_sim.net.predict_quantized(q).tolist()
    assert [a.cls for a in got] != other.predict_quantized(q).tolist()


def test_lutmesh_run_against_the_simulated_board(board_sim, tmp_path):
    """`lutmesh run` (pyserial, the real CLI) talking to the pin-level model over a pty."""
    model = board_sim.net.save(tmp_path / "m.npz")
    pty_path = tmp_path / "pty"
    n = 120
    proc_box = {}

    def client():
        while not pty_path.exists():
            time.sleep(0.05)
        proc_box["proc"] = subprocess.run(
            [sys.executable, "-m", "lutmesh", "run", str(model), "--port", pty_path.read_text(),
             "--dataset", "random", "--samples", str(n), "--timeout", "60"],
            capture_output=True, text=True, timeout=600)

    thread = threading.Thread(target=client)
    thread.start()
    result = board_sim.serve_pty(pty_path, answers=n, idle_seconds=60)
    thread.join()
    proc = proc_box["proc"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{n} samples, 0 mismatches with the golden model, 0 frame errors" in proc.stdout
    assert len(result["received"]) == 2 * n
