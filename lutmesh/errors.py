"""Errors a user can cause, each turned into one readable line by the CLI.

Anything *not* derived from :class:`LutmeshError` is a bug in lutmesh and keeps its
traceback; these are the user's to fix, so the message must say what and where.
"""


class LutmeshError(Exception):
    """Bad input from the user: a file, a value, a dataset. Exit code 2."""


class NetlistError(LutmeshError, ValueError):
    """A netlist (in memory or on disk) breaks the contract.

    The message names the offending field and value, so that a user who edited a
    file by hand, or a trainer with a bug, learns what exactly is wrong.
    """


class DataError(LutmeshError, ValueError):
    """A dataset cannot be used: missing, empty, non-numeric, NaN, wrong shape."""


class ConfigError(LutmeshError, ValueError):
    """An option or configuration value is out of range or unknown."""


class ToolError(LutmeshError, RuntimeError):
    """An external tool (Yosys, Verilator, nextpnr) failed; its log says why."""
