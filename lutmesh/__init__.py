"""lutmesh: data to small, fast, explainable FPGA circuits of local LUT meshes."""

from importlib.metadata import PackageNotFoundError, version as _version

from .errors import ConfigError, DataError, LutmeshError, NetlistError, ToolError
from .netlist import LutLayer, Netlist, Quantizer, Readout, ThermometerEncoder

try:
    __version__ = _version("lutmesh")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Netlist", "Quantizer", "ThermometerEncoder", "LutLayer", "Readout",
    "LutmeshError", "NetlistError", "DataError", "ConfigError", "ToolError", "__version__",
]
