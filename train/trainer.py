"""Training a local LUT mesh in numpy, and exporting it as a netlist.

The pipeline: fit the quantiser and thermometer on training data; wire each layer
locally; train the relaxed network (multilinear LUTs, group-sum softmax readout,
Adam with cosine decay, mini-batches); keep the parameters whose *hardened*
network scores best on a validation split carved from the training data; harden,
prune, and measure the exported netlist itself, since that is what ships.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, DataError
from ..netlist import LutLayer, Netlist, Readout
from .config import TrainConfig
from ..datasets import Dataset
from .encoding import fit_quantizer, fit_thermometer, input_positions
from ..prune import simplify
from .relaxed import DTYPE, RelaxedLutLayer
from .wiring import layer_positions, wire_layer

__all__ = ["train", "fit", "TrainResult", "Adam", "MeshModel"]


class Adam:
    """Adam over a list of arrays, updated in place."""

    def __init__(self, params: list[np.ndarray], lr: float, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.b1, self.b2, self.eps = params, lr, betas[0], betas[1], eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads: list[np.ndarray], lr: float | None = None) -> None:
        self.t += 1
        lr = self.lr if lr is None else lr
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            p -= (lr * (m / c1) / (np.sqrt(v / c2) + self.eps)).astype(p.dtype)


class MeshModel:
    """The relaxed network: layers plus a group-sum readout with a temperature."""

    def __init__(self, layers: list[RelaxedLutLayer], classes: np.ndarray, n_classes: int,
                 temperature: float):
        self.layers = layers
        self.n_classes = n_classes
        self.onehot = np.eye(n_classes, dtype=DTYPE)[classes]  # (N_last, C)
        self.classes = classes
        self.temperature = temperature

    def params(self) -> list[np.ndarray]:
        return [p for layer in self.layers for p in layer.params()]

    def loss_and_grads(self, x: np.ndarray, y: np.ndarray, length_cost: float):
        caches = []
        for layer in self.layers:
            x, cache = layer.forward(x)
            caches.append(cache)
        logits = (x @ self.onehot) / self.temperature
        logits -= logits.max(axis=1, keepdims=True)
        prob = np.exp(logits)
        prob /= prob.sum(axis=1, keepdims=True)
        loss = -np.log(prob[np.arange(len(y)), y] + 1e-12).mean()
        dlogits = prob
        dlogits[np.arange(len(y)), y] -= 1
        dx = (dlogits / len(y)) @ self.onehot.T / self.temperature
        grads: list[np.ndarray] = []
        for i in range(len(self.layers) - 1, -1, -1):
            g, dx = self.layers[i].backward(dx.astype(DTYPE), caches[i], length_cost,
                                            need_input_grad=i > 0)
            grads = g + grads
        loss += length_cost * sum(layer.length_penalty() for layer in self.layers)
        return float(loss), grads

    def hard_layers(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(layer.hard_inputs(), layer.hard_tables()) for layer in self.layers]

    def hard_predict(self, bits: np.ndarray, hard=None) -> np.ndarray:
        hard = hard or self.hard_layers()
        for inputs, tables in hard:
            bits = RelaxedLutLayer.hard_forward(bits, inputs, tables)
        scores = bits.astype(np.int64) @ self.onehot.astype(np.int64)
        return scores.argmax(axis=1)

    def soft_predict(self, bits: np.ndarray, batch: int = 512) -> np.ndarray:
        out = []
        for s in range(0, len(bits), batch):
            x = bits[s:s + batch].astype(DTYPE)
            for layer in self.layers:
                x, _ = layer.forward(x)
            out.append((x @ self.onehot).argmax(axis=1))
        return np.concatenate(out)


@dataclass
class TrainResult:
    """The exported netlist and the figures measured on it.

    ``unpruned`` and ``model`` are kept so that export and pruning can be checked
    to be exact; only ``netlist`` is meant to be saved.
    """

    netlist: Netlist
    metrics: dict
    unpruned: Netlist | None = None
    model: MeshModel | None = None


def _shift_images(X: np.ndarray, shape: tuple, max_shift: int, rng: np.random.Generator,
                  fill: np.ndarray) -> np.ndarray:
    """Random translations by up to ``max_shift`` pixels, background-filled (vectorised)."""
    rows, cols = shape
    n = len(X)
    pad = max_shift
    imgs = X.reshape(n, rows, cols)
    padded = np.broadcast_to(fill.reshape(1, rows, cols)[:, :1, :1],
                             (n, rows + 2 * pad, cols + 2 * pad)).copy()
    padded[:, pad:pad + rows, pad:pad + cols] = imgs
    # a 1-pixel-high (or -wide) image, such as an MNIST-1D signal, moves along its length only
    dr = rng.integers(-max_shift, max_shift + 1, size=n) if rows > 1 else np.zeros(n, np.int64)
    dc = rng.integers(-max_shift, max_shift + 1, size=n) if cols > 1 else np.zeros(n, np.int64)
    r_idx = (np.arange(rows)[None, :] + pad - dr[:, None])  # (n, rows)
    c_idx = (np.arange(cols)[None, :] + pad - dc[:, None])
    out = padded[np.arange(n)[:, None, None], r_idx[:, :, None], c_idx[:, None, :]]
    return out.reshape(n, -1)


def _readout_classes(n_last: int, n_classes: int) -> np.ndarray:
    """Class of every last-layer node: by channel, so each class sees the whole grid."""
    return np.arange(n_last) % n_classes


def _progress(iterable, enabled: bool, desc: str):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, unit="epoch", dynamic_ncols=True, leave=True)


def train(dataset: Dataset | str, config: TrainConfig | None = None) -> Netlist:
    """Train a local LUT mesh and return the exported, pruned netlist.

    ``dataset`` is a :class:`Dataset` or a name for :func:`load_dataset`. The
    netlist's ``meta`` holds the accuracies measured on the netlist itself.
    """
    return fit(dataset, config).netlist


def fit(dataset: Dataset | str, config: TrainConfig | None = None) -> TrainResult:
    """Like :func:`train`, with the full metrics, the unpruned netlist and the model.

    Deterministic: the same dataset, config and seed give identical netlist arrays.
    """
    if isinstance(dataset, str):
        from ..datasets import load_dataset

        dataset = load_dataset(dataset)
    config = config or TrainConfig()
    t0 = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    n_classes = dataset.n_classes
    specs = config.layer_specs
    if specs[-1].n_nodes < n_classes:
        raise ConfigError(f"layers: the last layer has {specs[-1].n_nodes} nodes, fewer than "
                          f"the {n_classes} classes")

    # -- validation split (stratified, seeded) --------------------------------
    X, y = dataset.X_train, dataset.y_train
    if config.validation_fraction > 0:
        from sklearn.model_selection import train_test_split

        try:
            X_fit, X_val, y_fit, y_val = train_test_split(
                X, y, test_size=config.validation_fraction, stratify=y,
                random_state=config.seed)
        except ValueError as exc:
            raise DataError(f"{dataset.name}: cannot carve a validation split ({exc})") from None
    else:
        X_fit, y_fit, X_val, y_val = X, y, X, y

    # -- input encoding ---------------------------------------------------------
    quantizer = fit_quantizer(X_fit, config.feature_bits)
    positions, grid = input_positions(dataset.n_features, dataset.image_shape)
    encoder = fit_thermometer(quantizer(X_fit), quantizer, config.thermometer_bits,
                              positions, grid)
    if encoder.n_bits == 0:
        raise DataError(f"{dataset.name}: every feature is constant on the training data")

    def encode(Xr):
        return encoder(quantizer(Xr)).astype(DTYPE)

    bits_val = encode(X_val)
    bits_fit = encode(X_fit)

    # -- wiring and the relaxed model ------------------------------------------
    prev_pos, prev_grid, n_prev = encoder.bit_positions, encoder.grid, encoder.n_bits
    layers, layer_geo = [], []
    for spec in specs:
        pos = layer_positions(spec)
        wiring = wire_layer(pos, (spec.rows, spec.cols), prev_pos, prev_grid,
                            config.lut_inputs, config.candidates, config.radius, rng)
        layers.append(RelaxedLutLayer(wiring, n_prev, config.init_std, rng))
        layer_geo.append((spec, pos))
        prev_pos, prev_grid, n_prev = pos, (spec.rows, spec.cols), len(pos)
    classes = _readout_classes(n_prev, n_classes)
    per_class = n_prev / n_classes
    temperature = config.temperature or math.sqrt(per_class) / 2
    model = MeshModel(layers, classes, n_classes, temperature)
    opt = Adam(model.params(), config.learning_rate)

    # -- training loop ---------------------------------------------------------
    steps_per_epoch = max(1, math.ceil(len(X_fit) / config.batch_size))
    total_steps = steps_per_epoch * config.epochs
    shift = config.augment_shift if dataset.image_shape is not None else 0
    background = np.full(dataset.n_features, X_fit.min()) if shift else None
    best = (-1.0, None, 0)
    history = []
    step = 0
    bar = _progress(range(config.epochs), config.progress, f"train {dataset.name}")
    for epoch in bar:
        order = rng.permutation(len(X_fit))
        losses = []
        for b in range(steps_per_epoch):
            idx = order[b * config.batch_size:(b + 1) * config.batch_size]
            if shift:
                xb = encode(_shift_images(X_fit[idx], dataset.image_shape, shift, rng,
                                          background))
            else:
                xb = bits_fit[idx]
            lr = config.learning_rate * 0.5 * (1 + math.cos(math.pi * step / total_steps))
            loss, grads = model.loss_and_grads(xb, y_fit[idx], config.length_cost)
            opt.step(grads, lr)
            losses.append(loss)
            step += 1
        hard = model.hard_layers()
        val_acc = float((model.hard_predict(bits_val, hard) == y_val).mean())
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)),
                        "val_hard_accuracy": val_acc})
        if val_acc > best[0]:
            best = (val_acc, [p.copy() for p in model.params()], epoch + 1)
        if config.progress:
            bar.set_postfix(loss=f"{np.mean(losses):.3f}", val=f"{100 * val_acc:.2f}%",
                            best=f"{100 * best[0]:.2f}%")
        if epoch + 1 - best[2] >= config.patience:
            break
    for p, saved in zip(model.params(), best[1]):
        p[...] = saved
    train_seconds = time.perf_counter() - t0

    # -- harden, export, prune, measure the netlist itself --------------------
    hard = model.hard_layers()
    prev_grid = encoder.grid
    net_layers = []
    for (spec, pos), (inputs, tables) in zip(layer_geo, hard):
        net_layers.append(LutLayer((spec.rows, spec.cols), pos, inputs, tables, config.radius))
    groups = tuple(np.flatnonzero(classes == c) for c in range(n_classes))
    raw = Netlist(quantizer, encoder, tuple(net_layers), Readout(groups), dataset.class_names,
                  dataset.feature_names, {})
    net = simplify(raw)

    def acc(n, Xr, yr):
        return float((n.predict(Xr) == yr).mean())

    soft_val = float((model.soft_predict(bits_val) == y_val).mean())
    accuracy = {"train": acc(net, X_fit, y_fit), "validation": acc(net, X_val, y_val),
                "test": acc(net, dataset.X_test, dataset.y_test)}
    metrics = {
        "dataset": dataset.name,
        "seed": config.seed,
        "config": config.to_dict(),
        "accuracy": accuracy,
        "soft_validation_accuracy": soft_val,
        "soft_hard_gap": soft_val - accuracy["validation"],
        "best_epoch": best[2],
        "epochs_run": len(history),
        "train_seconds": round(train_seconds, 2),
        "temperature": temperature,
        "nodes_before_pruning": [l.n_nodes for l in raw.layers],
        "nodes_after_pruning": [l.n_nodes for l in net.layers],
        "lut_inputs_before_pruning": int(sum(int(l.arity().sum()) for l in raw.layers)),
        "lut_inputs_after_pruning": int(sum(int(l.arity().sum()) for l in net.layers)),
        "encoded_bits_before_pruning": raw.encoder.n_bits,
        "encoded_bits_after_pruning": net.encoder.n_bits,
        "nodes": net.n_nodes,
        "history": history,
    }
    info = {k: metrics[k] for k in ("dataset", "seed", "config", "accuracy", "nodes",
                                    "train_seconds", "soft_hard_gap", "nodes_before_pruning",
                                    "nodes_after_pruning")}
    return TrainResult(net.replace(meta=info), metrics, raw, model)
