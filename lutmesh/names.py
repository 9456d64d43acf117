"""Human names for every signal: encoder bits by feature and threshold, nodes by place.

Node names are the ones the generated Verilog uses (``l1_r2_c3``), so a formula
read here can be found in a waveform or a synthesis report.
"""

from .netlist import LutLayer, Netlist

__all__ = ["node_names", "feature_label", "bit_names", "layer_names", "radius_text"]


def radius_text(radius) -> str:
    """A locality radius as the CLI spells it: ``2``, ``global``, or one per layer
    (``0,2``, from a tuple or from a list read back from JSON)."""
    radii = radius if isinstance(radius, (tuple, list)) else (radius,)
    return ",".join("global" if r is None else str(r) for r in radii)


def node_names(layer: LutLayer, index: int) -> list[str]:
    """``l{layer}_r{row}_c{col}``, with ``_{k}`` when a cell holds several nodes."""
    keys = [tuple(int(v) for v in p) for p in layer.positions]
    counts: dict[tuple, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    seen: dict[tuple, int] = {}
    names = []
    for key in keys:
        base = f"l{index}_r{key[0]}_c{key[1]}"
        if counts[key] > 1:
            names.append(f"{base}_{seen.get(key, 0)}")
            seen[key] = seen.get(key, 0) + 1
        else:
            names.append(base)
    return names


def feature_label(net: Netlist, f: int) -> str:
    """``px[r,c]`` for image pixels (feature names ``px_r_c`` or an image grid), else the name."""
    name = str(net.feature_names[f])
    parts = name.replace("[", "_").replace("]", "").replace(",", "_").split("_")
    if len(parts) == 3 and parts[0] in ("px", "pixel") and parts[1].isdigit() and parts[2].isdigit():
        return f"px[{int(parts[1])},{int(parts[2])}]"
    return name


def bit_names(net: Netlist) -> list[str]:
    """``feature ≥ t`` for every encoder bit (t in quantised units)."""
    enc = net.encoder
    return [f"{feature_label(net, int(f))} ≥ {int(t)}"
            for f, t in zip(enc.bit_feature, enc.bit_threshold)]


def layer_names(net: Netlist) -> list[list[str]]:
    return [node_names(layer, i) for i, layer in enumerate(net.layers)]
