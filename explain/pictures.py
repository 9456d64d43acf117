"""Pictures of the mesh: class-conditional activations, class circuits, receptive fields.

Every node sits at its grid position; nodes sharing a cell (channels) are spread on
a small circle inside it, so a layer looks like the 2-D mesh it is in hardware.
"""

from pathlib import Path

import numpy as np

from ..netlist import Netlist
from ..charts import pyplot, save_figure

__all__ = ["activation_picture", "circuit_picture", "fields_picture", "audit_picture",
           "node_xy"]


def node_xy(grid, positions) -> np.ndarray:
    """(x, y) in [0, 1]² for every node, channels of a cell spread around its centre."""
    rows, cols = grid
    positions = np.asarray(positions)
    xy = np.zeros((len(positions), 2))
    counts: dict = {}
    keys = [tuple(p) for p in positions.tolist()]
    totals: dict = {}
    for k in keys:
        totals[k] = totals.get(k, 0) + 1
    for i, (r, c) in enumerate(keys):
        j = counts.get((r, c), 0)
        counts[(r, c)] = j + 1
        n = totals[(r, c)]
        angle = 2 * np.pi * j / max(n, 1)
        spread = 0.32 if n > 1 else 0.0
        xy[i] = ((c + 0.5 + spread * np.cos(angle)) / cols,
                 1 - (r + 0.5 + spread * np.sin(angle)) / rows)
    return xy


def _input_xy(net: Netlist) -> np.ndarray:
    return node_xy(net.encoder.grid, net.encoder.bit_positions)


def activation_picture(net: Netlist, outs: list[np.ndarray], labels: np.ndarray,
                       path: Path) -> Path:
    """Per layer and class: each node's firing rate on that class's training samples."""
    plt = pyplot()
    n_cls = net.n_classes
    fig, axes = plt.subplots(len(net.layers), n_cls, figsize=(1.6 * n_cls, 1.7 * len(net.layers)),
                             squeeze=False)
    for i, (layer, out) in enumerate(zip(net.layers, outs)):
        xy = node_xy(layer.grid, layer.positions)
        for c in range(n_cls):
            rate = out[labels == c].mean(axis=0) if (labels == c).any() else np.zeros(out.shape[1])
            ax = axes[i][c]
            ax.scatter(xy[:, 0], xy[:, 1], c=rate, cmap="viridis", vmin=0, vmax=1,
                       s=max(2, 900 / max(1, layer.n_nodes) ** 0.9))
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1)
            if i == 0:
                ax.set_title(str(net.class_names[c]), fontsize=8)
            if c == 0:
                ax.set_ylabel(f"layer {i}", fontsize=8)
    fig.suptitle("firing rate of every node, per class (training data)", fontsize=9)
    path = save_figure(fig, path)
    return path


def circuit_picture(net: Netlist, keep: np.ndarray, offsets: np.ndarray, cls: int,
                    path: Path) -> Path:
    """The class circuit on the mesh: panels input → layers, kept nodes and their links."""
    plt = pyplot()
    panels = len(net.layers) + 1
    fig, ax = plt.subplots(figsize=(3.2 * panels, 3.4))
    gap = 0.25
    enc_xy = _input_xy(net)
    places = [enc_xy]
    for layer in net.layers:
        places.append(node_xy(layer.grid, layer.positions))
    shifted = [p + np.array([k * (1 + gap), 0]) for k, p in enumerate(places)]
    used_bits = np.zeros(net.encoder.n_bits, dtype=bool)
    for i, layer in enumerate(net.layers):
        k = keep[offsets[i]:offsets[i + 1]]
        src_keep = used_bits if i == 0 else keep[offsets[i - 1]:offsets[i]]
        for n in np.flatnonzero(k):
            for src in layer.inputs[n]:
                if src < 0:
                    continue
                if i == 0:
                    used_bits[src] = True
                elif not src_keep[src]:
                    continue
                a, b = shifted[i][src], shifted[i + 1][n]
                ax.plot([a[0], b[0]], [a[1], b[1]], color="0.55", lw=0.4, alpha=0.6, zorder=1)
    ax.scatter(*shifted[0].T, s=6, c=np.where(used_bits, "tab:orange", "0.85"), zorder=2)
    for i, layer in enumerate(net.layers):
        k = keep[offsets[i]:offsets[i + 1]]
        xy = shifted[i + 1]
        ax.scatter(*xy[~k].T, s=5, c="0.88", zorder=2)
        color = "tab:blue"
        if i == len(net.layers) - 1:
            voter = np.zeros(layer.n_nodes, dtype=bool)
            voter[net.readout.groups[cls]] = True
            ax.scatter(*xy[k & voter].T, s=14, c="tab:red", zorder=3, label=f"votes for {cls}")
            k = k & ~voter
        ax.scatter(*xy[k].T, s=10, c=color, zorder=3)
    for k in range(panels):
        ax.text(k * (1 + gap) + 0.5, 1.04, "input bits" if k == 0 else f"layer {k - 1}",
                ha="center", fontsize=8)
    ax.set_axis_off()
    ax.set_title(f"class circuit for {net.class_names[cls]}: {int(keep.sum())} nodes", fontsize=9)
    path = save_figure(fig, path)
    return path


def fields_picture(net: Netlist, fields: list[np.ndarray], image_shape, path: Path) -> Path:
    """Per layer: how many nodes depend on each input feature (and field-size histogram)."""
    plt = pyplot()
    fig, axes = plt.subplots(2, len(fields), figsize=(3.2 * len(fields), 5.6), squeeze=False)
    for i, f in enumerate(fields):
        use = f.sum(axis=0)
        ax = axes[0][i]
        if image_shape is not None:
            im = ax.imshow(use.reshape(image_shape), cmap="magma")
            fig.colorbar(im, ax=ax, fraction=0.046)
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            ax.bar(np.arange(len(use)), use, color="tab:purple")
            ax.set_xlabel("feature", fontsize=8)
        ax.set_title(f"layer {i}: nodes reading each input", fontsize=8)
        sizes = f.sum(axis=1)
        axes[1][i].hist(sizes, bins=np.arange(sizes.max() + 2) - 0.5, color="tab:green")
        axes[1][i].set_title(f"layer {i}: receptive field (features), mean {sizes.mean():.1f}",
                             fontsize=8)
    path = save_figure(fig, path)
    return path


def audit_picture(net: Netlist, x_raw: np.ndarray, audit: dict, image_shape, path: Path) -> Path:
    """The sample, with the features that decided it outlined."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(3.6, 3.6))
    decisive = np.zeros(net.n_features, dtype=bool)
    decisive[audit["decisive_features"]] = True
    if image_shape is not None:
        ax.imshow(np.asarray(x_raw).reshape(image_shape), cmap="gray_r")
        rr, cc = np.unravel_index(np.flatnonzero(decisive), image_shape)
        ax.scatter(cc, rr, s=60, facecolors="none", edgecolors="tab:red", linewidths=1.2)
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        ax.bar(np.arange(net.n_features), x_raw, color=np.where(decisive, "tab:red", "0.7"))
        ax.set_xlabel("feature (red: decided this sample)", fontsize=8)
    ax.set_title(f"predicted {audit['class_name']}; {decisive.sum()} deciding inputs", fontsize=9)
    path = save_figure(fig, path)
    return path
