"""Pictures of the mesh: class-conditional activations, class circuits, receptive fields.

A class circuit is drawn where it lives: each layer on its own grid, edges as
segments from a source's place to its reader's, so local wiring shows as short
strokes (the old single-canvas drawing spanned input -> layers and read as a
hairball of 1,259-1,602 long edges).

Every node sits at its grid position; nodes sharing a cell (channels) are spread on
a small circle inside it, so a layer looks like the 2-D mesh it is in hardware.
"""

from pathlib import Path

import numpy as np

from ..netlist import Netlist
from ..charts import pyplot, save_figure

__all__ = ["activation_picture", "class_picture", "fields_picture", "audit_picture",
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


def _on_input(ax, values, image_shape, cmap, vmin, vmax, base=None):
    """Per-feature values as an image (or bars for tabular data); NaN: not shown."""
    if image_shape is None:
        shown = np.nan_to_num(values)
        ax.bar(np.arange(len(values)), shown, color=np.where(np.isnan(values), "0.85",
                                                              "tab:red"))
        ax.set_xlabel("feature", fontsize=7)
        return None
    im = ax.imshow(np.ma.masked_invalid(np.asarray(values, float)).reshape(image_shape),
                   cmap=cmap, vmin=vmin, vmax=vmax)
    if base is not None:  # the class's mean input as contour lines, so the shape shows
        ax.contour(np.asarray(base, float).reshape(image_shape), levels=3, colors="0.35",
                   linewidths=0.7)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def _mesh_panel(ax, net: Netlist, i: int, keep_layer: np.ndarray, pairs: np.ndarray,
                voters: np.ndarray | None) -> None:
    """Layer ``i`` on its own grid: every node faint, kept ones dark, and each edge a
    segment from its source's place (the layer below, same unit square) to the node."""
    layer = net.layers[i]
    xy = node_xy(layer.grid, layer.positions)
    src_xy = _input_xy(net) if i == 0 else node_xy(net.layers[i - 1].grid,
                                                   net.layers[i - 1].positions)
    for n, src in pairs:
        a, b = src_xy[src], xy[n]
        ax.plot([a[0], b[0]], [a[1], b[1]], color="0.45", lw=0.6, zorder=1)
    if len(pairs):
        ax.scatter(*src_xy[np.unique(pairs[:, 1])].T, s=8, facecolors="none",
                   edgecolors="tab:orange", lw=0.7, zorder=2)
    ax.scatter(*xy[~keep_layer].T, s=4, c="0.9", zorder=2)
    ax.scatter(*xy[keep_layer].T, s=16, c="tab:blue", zorder=3)
    if voters is not None:
        ax.scatter(*xy[keep_layer & voters].T, s=22, c="tab:red", zorder=4)
    rows, cols = layer.grid
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xticks(np.arange(cols + 1) / cols, labels=[])
    ax.set_yticks(np.arange(rows + 1) / rows, labels=[])
    ax.tick_params(length=0)
    ax.grid(True, color="0.93", lw=0.5)
    role = "; red: votes" if voters is not None else ""
    ax.set_title(f"layer {i} ({rows}×{cols} grid): {int(keep_layer.sum())} nodes{role}",
                 fontsize=8)


def class_picture(net: Netlist, cls: int, keep: np.ndarray, offsets: np.ndarray,
                  links: list[np.ndarray], field: list[int], impact: np.ndarray,
                  weights: np.ndarray,
                  image_shape, mean_input: np.ndarray, path: Path) -> Path:
    """One class, left to right: the pixels its circuit reads shaded by ablation impact
    (on the class's mean input), the L1 logistic weights for the same class, then the
    circuit on the mesh, one panel per layer. Every title sits above its own panel."""
    plt = pyplot()
    panels = 2 + len(net.layers)
    fig, axes = plt.subplots(1, panels, figsize=(2.9 * panels, 3.3), squeeze=True,
                             layout="constrained")
    read = np.full(net.n_features, np.nan)
    read[field] = impact[field]
    im = _on_input(axes[0], read, image_shape, "Reds", 0, max(impact.max(), 1e-9), mean_input)
    axes[0].set_title(f"class {net.class_names[cls]}: circuit reads {len(field)} inputs\n"
                      "red: |Δscore| when held; lines: class mean", fontsize=8)
    if im is not None:
        fig.colorbar(im, ax=axes[0], fraction=0.046)
    w = np.where(weights != 0, weights, np.nan)
    lim = max(np.abs(weights).max(), 1e-9)
    im = _on_input(axes[1], w, image_shape, "RdBu_r", -lim, lim)
    axes[1].set_title(f"L1 logistic: {int((weights != 0).sum())} inputs\n"
                      "red +, blue −, blank 0", fontsize=8)
    if im is not None:
        fig.colorbar(im, ax=axes[1], fraction=0.046)
    last = len(net.layers) - 1
    for i in range(len(net.layers)):
        voters = None
        if i == last:
            voters = np.zeros(net.layers[i].n_nodes, dtype=bool)
            voters[net.readout.groups[cls]] = True
        _mesh_panel(axes[2 + i], net, i, keep[offsets[i]:offsets[i + 1]], links[i], voters)
    return save_figure(fig, path)


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
