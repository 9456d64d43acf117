"""The numpy trainer of local LUT meshes: data in, a bit-exact netlist out."""

from .config import TrainConfig, load_config
from .trainer import TrainResult, fit, train

__all__ = ["train", "fit", "TrainResult", "TrainConfig", "load_config"]
