"""Helper for tests/test_sweep_ray.py, run inside ``unshare -n`` (a private network
namespace with only loopback), so that Ray's traffic never leaves this machine.

    python tests/sweep_netns.py sweep SWEEP.toml OUT [lutmesh sweep options]
    python tests/sweep_netns.py cluster SWEEP.toml OUT     head + 1 worker, 1 CPU each
    python tests/sweep_netns.py kill SWEEP.toml OUT        SIGKILL the first trial's worker once
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
ENV = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_USAGE_STATS_ENABLED": "0"}


def sweep(toml, out, *extra):
    return subprocess.run([BIN / "lutmesh", "sweep", toml, "--out", out, *extra], env=ENV).returncode


def cluster(toml, out):
    port = "6391"
    ray = str(BIN / "ray")
    try:
        subprocess.run([ray, "start", "--head", f"--port={port}", "--num-cpus=1",
                        "--include-dashboard=false", "--disable-usage-stats"], env=ENV,
                       check=True, capture_output=True)
        subprocess.run([ray, "start", f"--address=127.0.0.1:{port}", "--num-cpus=1"], env=ENV,
                       check=True, capture_output=True)
        return sweep(toml, out, "--address", f"127.0.0.1:{port}")
    finally:
        subprocess.run([ray, "stop", "--force"], env=ENV, capture_output=True)


def kill(toml, out):
    proc = subprocess.Popen([BIN / "lutmesh", "sweep", toml, "--out", out,
                             "--max-concurrent", "1"], env=ENV)
    deadline = time.time() + 120
    pid_files = Path(out) / "trials"
    while time.time() < deadline and proc.poll() is None:
        found = sorted(pid_files.glob("*/worker.pid"))
        if found:
            time.sleep(1.0)  # let it get into training
            pid = int(found[0].read_text())
            os.kill(pid, signal.SIGKILL)
            print(f"killed worker {pid} of {found[0].parent.name}", flush=True)
            (Path(out) / "killed.txt").write_text(found[0].parent.name + "\n")
            break
        time.sleep(0.2)
    return proc.wait(timeout=180)


if __name__ == "__main__":
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    what, args = sys.argv[1], sys.argv[2:]
    sys.exit({"sweep": sweep, "cluster": cluster, "kill": kill}[what](*args))
