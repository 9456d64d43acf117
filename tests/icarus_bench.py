"""Runs ``tests/verilog/stream_tb.v`` (a plain Verilog testbench) on an emitted core in
Icarus Verilog: ``python tests/icarus_bench.py RTL_DIR MODEL.npz`` checks a core by hand.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from lutmesh.hdl.emit import load_rtl
from lutmesh.sim.verify import pack_payloads

TESTBENCH = Path(__file__).parent / "verilog" / "stream_tb.v"


def run_stream_tb(rtl_dir, q, expected, work: Path, *, stall: int = 40, seed: int = 1,
                  generation: str = "2012") -> dict:
    """Quantised samples ``q`` through the core in ``rtl_dir``; the testbench's counts."""
    verilog, manifest = load_rtl(rtl_dir)
    work.mkdir(parents=True, exist_ok=True)
    widths = {p["name"]: int(p["width"]) for p in manifest["ports"]}
    (work / "payloads.hex").write_text(
        "".join(f"{p:x}\n" for p in pack_payloads(manifest["features"], q)))
    (work / "expected.hex").write_text("".join(f"{int(c):x}\n" for c in expected))
    defines = {"TOP": manifest["top"], "IN_W": widths["i__payload"],
               "OUT_W": widths["o__payload"], "CLS_W": manifest["outputs"][0]["width"],
               "N": len(expected)}
    vvp = work / "tb.vvp"
    subprocess.run([shutil.which("iverilog") or "iverilog", f"-g{generation}", "-o", str(vvp),
                    *(f"-D{k}={v}" for k, v in defines.items()), str(TESTBENCH), str(verilog)],
                   check=True, capture_output=True, text=True)
    run = subprocess.run(["vvp", "-n", str(vvp), f"+payloads={work / 'payloads.hex'}",
                          f"+expected={work / 'expected.hex'}", f"+stall={stall}",
                          f"+seed={seed}"], check=True, capture_output=True, text=True)
    line = next((s for s in run.stdout.splitlines() if s.startswith("RESULT")), None)
    assert line is not None, run.stdout + run.stderr
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


if __name__ == "__main__":
    import time

    from lutmesh.netlist import Netlist
    from lutmesh.samples import verification_samples

    rtl, model = Path(sys.argv[1]), Path(sys.argv[2])
    net = Netlist.load(model)
    X, source = verification_samples(net, None, None, 0)
    q = net.quantize(X)
    for gen in ("2012", "2005"):
        t0 = time.perf_counter()
        res = run_stream_tb(rtl, q, net.predict_quantized(q), Path("build/icarus_tb"),
                            generation=gen)
        print(f"-g{gen} on {source}: {res} ({time.perf_counter() - t0:.1f} s)")
