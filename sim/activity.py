"""Switching activity from Verilator's SAIF, summarised per pipeline stage.

Verilator's ``--trace-saif`` writes, for every net bit of every instance, how many
times it toggled (``TC``). Energy estimates need toggles *per inference per
stage*, counted once per physical net. A port appears in both the instance that
drives it and the one that reads it, so each stage counts only the nets it
drives: its named signals (node outputs, comparator bits, popcount and argmax
registers), never its input ports (read from the module headers of the emitted
Verilog). Nets named ``$…`` are the Verilog backend's temporaries (index vectors,
concatenations of other nets), not physical nets of the mapped design. The top level contributes the input pins
(``input``) and the valid pipeline (``control``); its other nets are wires
between stages, already counted where they are driven.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ToolError
from ..stages import stage_sort_key

__all__ = ["SaifNet", "parse_saif", "module_inputs", "stage_activity"]

# A stage's interface vectors are aliases of its ports and registers.
_INTERFACE = frozenset({"clk", "rst", "i", "o", "cls", "scores"})
_TOKEN = re.compile(r"\(|\)|\"[^\"]*\"|[^\s()]+")
_BIT = re.compile(r"^(.*?)(?:\\\[(\d+)\\\])?$")


@dataclass(frozen=True)
class SaifNet:
    instance: tuple[str, ...]  # path below the SAIF root, e.g. ("lutmesh_top", "layer0")
    name: str  # base name, bit index removed and unescaped
    bit: int | None
    toggles: int


def parse_saif(path: str | Path) -> tuple[list[SaifNet], dict]:
    """Every net bit with its toggle count, and the header (``DURATION``, ``TIMESCALE``)."""
    text = Path(path).read_text()
    tokens = _TOKEN.findall(text)
    nets: list[SaifNet] = []
    header: dict = {}
    stack: list[str] = []  # open list keywords / names
    instances: list[tuple[str, int]] = []  # (instance name, depth of its list)
    i = 0
    n = len(tokens)
    try:
        while i < n:
            tok = tokens[i]
            if tok == "(":
                head = tokens[i + 1]
                depth = len(stack)
                if head == "INSTANCE":
                    instances.append((tokens[i + 2], depth))
                    stack.append(head)
                    i += 3
                    continue
                if head in ("DURATION", "TIMESCALE") and not instances:
                    header[head.lower()] = tokens[i + 2]
                if stack and stack[-1] == "NET":
                    # (name (T0 a) (T1 b) ... (TC c))
                    name = head
                    j, tc = i + 2, None
                    while tokens[j] == "(":
                        if tokens[j + 1] == "TC":
                            tc = int(tokens[j + 2])
                        j += 4  # ( KEY value )
                    if tokens[j] != ")" or tc is None:
                        raise ValueError(f"net {name}: malformed")
                    m = _BIT.match(name)
                    base = m.group(1).replace("\\", "")
                    bit = int(m.group(2)) if m.group(2) is not None else None
                    nets.append(SaifNet(tuple(x for x, _ in instances), base, bit, tc))
                    i = j + 1
                    continue
                stack.append(head)
                i += 2
                continue
            if tok == ")":
                if not stack:
                    raise ValueError("unbalanced ')'")
                stack.pop()
                if instances and instances[-1][1] == len(stack):
                    instances.pop()
            i += 1
    except (IndexError, ValueError) as exc:
        raise ToolError(f"{path}: not a SAIF file Verilator would write ({exc})") from None
    if stack:
        raise ToolError(f"{path}: truncated SAIF file")
    return nets, header


def module_inputs(verilog_text: str) -> dict[str, set[str]]:
    """Input port names of every module in a Verilog file (Amaranth's output style)."""
    ports: dict[str, set[str]] = {}
    current = None
    for line in verilog_text.splitlines():
        m = re.match(r"\s*module\s+\\?(\S+?)\s*\(", line)
        if m:
            current = m.group(1)
            ports[current] = set()
            continue
        m = re.match(r"\s*input\s+(?:\[[^\]]*\]\s*)?\\?(\S+?)\s*;", line)
        if m and current is not None:
            ports[current].add(m.group(1))
    return ports


def stage_activity(saif: str | Path, verilog: str | Path, top: str, samples: int) -> dict:
    """Toggles per stage for a run of ``samples`` inferences.

    Returns a JSON-ready dict: per stage, the net bits counted, total toggles,
    toggles per inference and the mean toggle rate (toggles per bit per cycle).
    """
    nets, header = parse_saif(saif)
    inputs = module_inputs(Path(verilog).read_text())
    clock = [n.toggles for n in nets if n.name == "clk" and n.instance[-1:] == (top,)]
    if not clock:
        raise ToolError(f"{saif}: no clock net under instance {top}")
    cycles = clock[0] // 2
    stages: dict[str, dict] = {}

    def add(stage: str, net: SaifNet) -> None:
        s = stages.setdefault(stage, {"bits": 0, "toggles": 0})
        s["bits"] += 1
        s["toggles"] += net.toggles

    for net in nets:
        path = net.instance
        if top not in path or net.name.startswith("$"):
            continue
        below = path[path.index(top) + 1:]
        if not below:
            if net.name.startswith("valid_pipe"):
                add("control", net)
            elif net.name == "i__payload":
                add("input", net)
            continue
        module = f"{top}." + ".".join(below)
        if net.name in inputs.get(module, ()) or net.name in _INTERFACE:
            continue
        add(below[0], net)

    summary = {}
    for name in sorted(stages, key=stage_sort_key):
        s = stages[name]
        summary[name] = {
            "bits": s["bits"],
            "toggles": s["toggles"],
            "toggles_per_inference": s["toggles"] / samples if samples else None,
            "toggle_rate": s["toggles"] / (s["bits"] * cycles) if s["bits"] and cycles else 0.0,
        }
    total = sum(s["toggles"] for s in stages.values())
    return {
        "source": "Verilator --trace-saif, full-rate stream of the verified samples",
        "samples": samples,
        "cycles": cycles,
        "duration": header.get("duration"),
        "timescale": header.get("timescale"),
        "stages": summary,
        "total_toggles": total,
        "toggles_per_inference": total / samples if samples else None,
        "counting": "each net bit once, in the stage that drives it (input ports skipped)",
    }
