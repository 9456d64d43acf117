"""Training options: one dataclass, validated once, loadable from TOML.

Every option of ``lutmesh train`` is a field here, so a ``--config FILE.toml`` can
set any of them and the command line overrides the file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..files import read_toml
from ..names import radius_text
from .wiring import LayerSpec, parse_layers

__all__ = ["TrainConfig", "load_config", "PRESETS", "radius_text"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (with the dataset and the seed).

    The defaults are the measured best on ``digits`` for iCE40's LUT4 fabric: see
    ``benchmarks/train_quality.py`` and the README's training section.
    ``8x8x6,4x4x29`` with 8 candidate sources per input slot, trained for up to 120
    epochs (patience 40; no longer early-stopped, below), rather than ``8x8x8,4x4x35``
    with 4 candidates for 40: over seeds 0-19 a mean test accuracy of 96.99% against
    96.66% (seeds 0-9 picked it, from twelve variants of the smaller model; seeds
    10-19, not looked at while picking: 96.72% against 96.56%) in 2,119 iCE40 LUT4s
    against 2,527 (seed 0). The smaller
    model alone loses half a point (96.28% over seeds 0-4): the wider input choice and
    the longer schedule win it back. The other data shapes (``defaults.py``; tables
    from 10,000 rows excepted) keep 4 candidates, 40 epochs and patience 15, the
    settings they were measured with.

    Session 19 changed the trainer, judged on seeds that chose nothing else (seeds 0-9
    had chosen every setting above, and flattered it: 97.25% there, about 96.6% on
    fresh seeds): quarter-pixel shifts (``augment_subpixel``; 96.95% against 96.60%
    over 130 seeds), then no validation split, the 120-epoch cosine schedule run to
    its end and the last epoch kept (``validation_fraction = 0``): **97.81%** against
    96.63% over the 110 seeds 10-59, 80-119 and 1000-1019, 78% of them at 97.5% or
    more against 11% (seeds 20-59 chose 120 epochs over 40 / 60 / 80: 97.74% against
    97.15 / 97.60 / 97.69%; 80-119 and 1000-1019, run after, confirmed it: 97.92% and
    97.79%; with the shifts and the split, 97.02% on the same 110 seeds). Seed 0:
    98.06%, 2,121 iCE40 LUT4s. Early stopping on 144 validation images chose a noisy
    epoch of a network that had not finished its schedule, and held a tenth of the
    data out.
    """

    layers: str = "8x8x6,4x4x29"
    lut_inputs: int = 4
    radius: int | None | tuple = 2  # one for every layer, or one per layer ("0,2,2")
    candidates: int = 8
    feature_bits: int = 8
    thermometer_bits: int = 4
    epochs: int = 120
    batch_size: int = 64
    learning_rate: float = 0.05
    init_std: float = 0.3
    temperature: float | None = None
    length_cost: float = 0.01
    validation_fraction: float = 0.0
    patience: int = 40
    augment_shift: int = 0
    augment_subpixel: float = 0.25
    augment_flip: bool = False
    lut_budget: int | None = None
    seed: int = 0
    progress: bool = field(default=True, compare=False)

    def __post_init__(self) -> None:
        specs = parse_layers(self.layers)
        object.__setattr__(self, "layers", ",".join(str(s) for s in specs))
        checks = [
            ("lut_inputs", 2 <= self.lut_inputs <= 8, "2..8"),
            ("candidates", 1 <= self.candidates <= 16, "1..16"),
            ("feature_bits", 1 <= self.feature_bits <= 16, "1..16"),
            ("thermometer_bits", 1 <= self.thermometer_bits <= 64, "1..64"),
            ("epochs", self.epochs >= 1, ">= 1"),
            ("batch_size", self.batch_size >= 1, ">= 1"),
            ("learning_rate", 0 < self.learning_rate < 10, "in (0, 10)"),
            ("init_std", 0 <= self.init_std <= 10, "0..10"),
            ("temperature", self.temperature is None or self.temperature > 0, "> 0"),
            ("length_cost", self.length_cost >= 0, ">= 0"),
            ("validation_fraction", 0 <= self.validation_fraction < 0.9, "0..0.9"),
            ("patience", self.patience >= 1, ">= 1"),
            ("augment_shift", 0 <= self.augment_shift <= 4, "0..4"),
            ("augment_subpixel", 0 <= self.augment_subpixel <= 1, "0..1 (a pixel)"),
            ("lut_budget", self.lut_budget is None or self.lut_budget >= 1, ">= 1"),
            ("radius", all(r is None or r >= 0 for r in _as_tuple(self.radius)),
             ">= 0 or 'global'"),
            ("radius", not isinstance(self.radius, tuple) or len(self.radius) == len(specs),
             f"one value, or one per layer ({len(specs)} layers: {self.layers})"),
        ]
        for name, ok, allowed in checks:
            if not ok:
                raise ConfigError(f"{name} = {getattr(self, name)!r}: expected {allowed}")

    @property
    def layer_specs(self) -> tuple[LayerSpec, ...]:
        return parse_layers(self.layers)

    @property
    def layer_radii(self) -> tuple[int | None, ...]:
        """The locality radius of every layer (None: global)."""
        if isinstance(self.radius, tuple):
            return self.radius
        return (self.radius,) * len(parse_layers(self.layers))

    def to_dict(self) -> dict:
        """JSON-ready (a per-layer radius as a list), and equal to itself read back from
        JSON, which is how ``is_current`` compares a saved config."""
        d = dataclasses.asdict(self)
        d.pop("progress")
        if isinstance(d["radius"], tuple):
            d["radius"] = list(d["radius"])
        return d

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def coerce(name: str, value):
    """Turn a TOML or command-line value into the field's type, or raise ConfigError."""
    if name not in _FIELDS:
        raise ConfigError(f"unknown option '{name}' (known: {', '.join(sorted(_FIELDS))})")
    if name == "radius":
        return _coerce_radius(value)
    if name == "temperature" and value in (None, "auto"):
        return None
    kind = {"layers": str}.get(name)
    default = _FIELDS[name].default
    if isinstance(default, bool):
        return _coerce_bool(name, value)
    kind = kind or (float if isinstance(default, float) or name == "temperature" else int)
    if kind is int and isinstance(value, float) and not value.is_integer():
        raise ConfigError(f"{name} = {value!r}: expected an integer")
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} = {value!r}: expected {kind.__name__}") from None


def _coerce_radius(value):
    """``2``, ``"global"``, or one per layer (``"0,2,2"``, a TOML list): an int, None,
    or a tuple of them (one value given as a list is that value)."""
    parts = value.split(",") if isinstance(value, str) and "," in value else value
    if isinstance(parts, (list, tuple)):
        radii = tuple(_coerce_radius(v) for v in parts)
        if not radii or any(isinstance(r, tuple) for r in radii):
            raise ConfigError(f"radius = {value!r}: expected an integer, 'global', or one of "
                              "those per layer (e.g. 0,2)")
        return radii[0] if len(radii) == 1 else radii
    if value is None or str(value).strip().lower() in ("global", "none"):
        return None
    try:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"radius = {value!r}: expected an integer or 'global'") from None


def _as_tuple(radius) -> tuple:
    return radius if isinstance(radius, tuple) else (radius,)


def _coerce_bool(name: str, value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} = {value!r}: expected true or false")


# The trainer settings every recipe other than the digits default was measured with
# (the dataclass defaults before they moved to 8 candidates and 120 epochs, and before
# quarter-pixel shifts): the other data shapes (``defaults.py``) keep them, so their
# measured figures still hold. The digits gain (+0.3 point over 20 seeds) does not
# carry over: Fashion-MNIST with 8 candidates scored 88.00% against 88.68%, wine with
# the digits trainer 96.57% against 98.24% over seeds 0-29 (README).
MEASURED_TRAINER = {"candidates": 4, "epochs": 40, "patience": 15, "validation_fraction": 0.1,
                    "augment_subpixel": 0.0}


# The digits default's trainer before session 19 (8 candidates, up to 120 epochs with
# early stopping on a validation split, no quarter-pixel shifts), kept by what was
# measured with it: the explainable preset and tables of 10,000 rows or more.
DIGITS_TRAINER = {"candidates": 8, "epochs": 120, "patience": 40, "validation_fraction": 0.1,
                  "augment_subpixel": 0.0}

# Named starting points for ``lutmesh train --preset``; each value is measured in the
# README (Explain: the explainable preset). ``explainable``: picked from five layer
# sizes by the mean over digits seeds 0-4 of the class circuits' balanced test
# accuracy, among those whose circuits average at most 60 nodes: ``8x8x8,4x4x20``
# with the digits trainer, 96.11% test, circuits of 58.5 nodes reading 21.9 pixels at
# 94.88% balanced, against 94.61%, 56.8 nodes, 19.3 pixels, 94.15% for the earlier
# ``8x8x8,4x4x16,4x4x10`` with 4 candidates and 40 epochs.
PRESETS: dict[str, dict] = {
    "default": {},
    "explainable": {"layers": "8x8x8,4x4x20", **DIGITS_TRAINER},
}


def load_config(path: str | Path | None = None, preset: str | None = None, *,
                data=None, **overrides) -> TrainConfig:
    """Defaults, then those the data's shape calls for (``data``, a Dataset:
    :func:`.defaults.shape_defaults`), then the preset, then the TOML file (a flat table
    or a [train] table), then overrides."""
    if preset is not None and preset not in PRESETS:
        raise ConfigError(f"preset {preset!r}: expected one of {', '.join(PRESETS)}")
    values = {}
    if data is not None:
        from .defaults import shape_defaults

        values.update(shape_defaults(data)[0])
    values.update(PRESETS.get(preset or "default", {}))
    if path is not None:
        path = Path(path)
        data = read_toml(path)
        data = data.get("train", data)
        for key, value in data.items():
            values[key.replace("-", "_")] = coerce(key.replace("-", "_"), value)
    for key, value in overrides.items():
        if value is not None:
            values[key] = coerce(key, value)
    return TrainConfig(**values)
