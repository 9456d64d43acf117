"""A trained model on disk, and when training must run again."""

from lutmesh.train.artifacts import is_current, metrics_path, save_trained
from lutmesh.train.config import TrainConfig
from lutmesh.train.trainer import TrainResult
from lutmesh.testing import random_netlist


def test_saved_model_is_current_only_for_its_dataset_and_config(tmp_path):
    config = TrainConfig(layers="2x2x4", epochs=1)
    result = TrainResult(random_netlist(0), {"config": config.to_dict(), "accuracy": {}})
    model = tmp_path / "m.npz"
    assert not is_current(model, "iris", config)
    assert save_trained(result, model, "iris") == metrics_path(model) == tmp_path / "m.metrics.json"
    assert is_current(model, "iris", config)
    assert not is_current(model, "wine", config)
    assert not is_current(model, "iris", config.replace(seed=1))
    model.unlink()
    assert not is_current(model, "iris", config)
