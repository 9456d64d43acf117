"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every stage writes its outputs through these, so a failed or interrupted command
never leaves a half-written netlist, manifest or report behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_write_json", "sha256_of",
           "read_toml"]


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, data) -> None:
    """``data`` as indented JSON with a final newline (the form every stage writes)."""
    import json

    atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def sha256_of(path: str | os.PathLike) -> str:
    """The hex SHA-256 of a file: how verify, report and flow know they saw one design."""
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_toml(path: str | os.PathLike) -> dict:
    """A TOML file as a dict; a missing or malformed file is one ConfigError line."""
    import tomllib

    from .errors import ConfigError

    try:
        return tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
