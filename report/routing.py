"""Routed wire per net, read from nextpnr's routed design (``--write routed.json``).

nextpnr records each routed net as a ``ROUTING`` attribute: ``wire;pip;strength``
triples, the first (empty pip) being the driver's wire and every other one a wire
entered through a programmable interconnect point (PIP). A net's *wire count* here is
its number of PIPs: the routing segments it switches besides its driver pin. This is
nextpnr's own record (the bitstream is written from it); it counts every hop the
router bound, including the in-tile hops to a LUT input (iCE40 ``in_N → in_N_lut``,
about two per sink), so it is a measure of routing resources used, not of metres.

Nets are mapped to stages by name: after Yosys's ``flatten``, a wire of the core's
``layer0`` module is ``core.layer0.<name>`` (``core`` is the harness's instance), and a
node's registered output keeps its Verilog name (``core.layer0.l0_r2_c3_1``).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from ..errors import ToolError

__all__ = ["pips_in", "wires_by_net", "stage_of_net", "routing_summary", "node_sites",
           "CORE_INSTANCE"]

CORE_INSTANCE = "core"  # the harness's instance name of the emitted core


def pips_in(routing: str) -> int:
    """PIPs in one ``ROUTING`` attribute (``wire;pip;strength`` triples)."""
    fields = routing.split(";")
    if len(fields) < 3:
        return 0
    return sum(1 for pip in fields[1::3] if pip.strip())


def _routed_module(routed_json: str | Path) -> dict:
    try:
        design = json.loads(Path(routed_json).read_text())
        (module,) = design["modules"].values()
        module["netnames"], module["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ToolError(f"{routed_json}: not a routed nextpnr design ({exc})") from None
    return module


def wires_by_net(routed_json: str | Path) -> dict[str, int]:
    """``{net name: PIPs}`` for every routed net of nextpnr's ``--write`` JSON."""
    out = {}
    for name, net in _routed_module(routed_json)["netnames"].items():
        routing = net.get("attributes", {}).get("ROUTING", "")
        if routing.strip():
            out[name] = pips_in(routing)
    return out


def stage_of_net(name: str, clock: str = "clk") -> str:
    """``core.layer0.l0_r1_c2`` → ``layer0``; ``core.x`` → ``control``.

    The clock's global network is ``clock`` (its energy is in the clock term); nets
    outside the core are the ``harness``'s; packer-made nets (``$PACKER_VCC_NET``,
    carry feed-ins ``$nextpnr_…``) are ``other``.
    """
    if name == clock or name.startswith(clock + "$"):
        return "clock"
    parts = name.split(".")
    if parts[0] == CORE_INSTANCE and len(parts) > 1:
        return parts[1] if len(parts) > 2 else "control"
    return "other" if name.startswith("$") else "harness"


def routing_summary(wires: dict[str, int], nodes: int) -> dict:
    """The ``routing`` section of ``report.json``.

    ``wires_per_node_mean`` is the wire on the nets of the mesh layers (each node's
    output fanning out to the next layer or the readout, plus any LUT-to-LUT net of a
    node wider than one cell) divided by the number of nodes: the figure a local mesh
    should make small. Totals leave out the clock's global network.
    """
    by_stage: dict[str, list[int]] = {}
    for name, n in wires.items():
        by_stage.setdefault(stage_of_net(name), []).append(n)
    counted = {k: v for k, v in wires.items() if stage_of_net(k) != "clock"}
    mesh = sum(sum(v) for k, v in by_stage.items() if k.startswith("layer"))
    longest = max(counted, key=lambda k: (counted[k], k)) if counted else None
    total = sum(counted.values())
    return {
        "wires_total": total,
        "nets": len(counted),
        "wires_per_net_mean": round(total / len(counted), 2) if counted else None,
        "wires_per_node_mean": round(mesh / nodes, 2) if nodes else None,
        "longest_net_wires": counted[longest] if longest else None,
        "longest_net": longest,
        "by_stage": {k: {"nets": len(v), "wires": sum(v),
                         "wires_per_net_mean": round(sum(v) / len(v), 2),
                         "wires_per_net_median": statistics.median(v)}
                     for k, v in sorted(by_stage.items())},
        "unit": "PIPs (routing segments entered) per nextpnr's ROUTING attribute; "
                "totals exclude the clock network",
    }


def node_sites(routed_json: str | Path, names: list[list[str]]) -> dict[tuple[int, int], dict]:
    """``{(layer, node): {"bel", "strength"}}``: where nextpnr put each node's cell.

    ``names`` are the node names per layer (:func:`lutmesh.names.layer_names`); a node's
    cell is the one driving its registered output ``core.layer{i}.{name}`` (an iCE40
    logic cell, an ECP5 flip-flop). Nodes
    synthesis removed (constant or unused) are absent.
    """
    module = _routed_module(routed_json)
    driver = {bits[0]: c for c in module["cells"].values()
              for port, bits in c.get("connections", {}).items()
              if bits and c.get("port_directions", {}).get(port) == "output"}
    out = {}
    for i, layer in enumerate(names):
        for n, name in enumerate(layer):
            net = module["netnames"].get(f"{CORE_INSTANCE}.layer{i}.{name}")
            cell = driver.get(net["bits"][0]) if net else None
            if cell and "NEXTPNR_BEL" in cell.get("attributes", {}):
                out[(i, n)] = {"bel": cell["attributes"]["NEXTPNR_BEL"],
                               "strength": int(cell["attributes"].get("BEL_STRENGTH", "0"), 2)}
    return out
