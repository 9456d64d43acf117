"""What training leaves on disk, and whether it is still current.

A trained model is two files: the netlist (``model.npz``) and its metrics
(``model.metrics.json``: accuracies, timings, the whole config and the data set it
was trained on). Training is the slowest stage, so ``lutmesh flow`` re-runs it only
when :func:`is_current` says the data set or the config changed.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..files import atomic_write_json

__all__ = ["metrics_path", "save_trained", "is_current"]


def metrics_path(model: str | Path) -> Path:
    model = Path(model)
    return model.with_name(model.stem + ".metrics.json")


def save_trained(result, model: str | Path, dataset_source: str) -> Path:
    """Write the netlist and its metrics (recording ``dataset_source``); return the metrics path."""
    result.metrics["dataset_source"] = dataset_source
    result.netlist.save(model)
    path = metrics_path(model)
    atomic_write_json(path, result.metrics)
    return path


def is_current(model: str | Path, dataset_source: str, config) -> bool:
    """Whether ``model`` was trained on ``dataset_source`` with exactly ``config``."""
    try:
        old = json.loads(metrics_path(model).read_text())
    except (OSError, ValueError):
        return False
    return (Path(model).exists() and old.get("dataset_source") == dataset_source
            and old.get("config") == config.to_dict())
