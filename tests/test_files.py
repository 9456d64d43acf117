"""Atomic writes: a reader sees the old file or the new one, never a half."""

import json
import os

import pytest

from lutmesh.files import atomic_write_bytes, atomic_write_json, atomic_write_text, sha256_of


def test_writes_create_parents_and_replace_whole_files(tmp_path):
    path = tmp_path / "a" / "b" / "out.txt"
    atomic_write_text(path, "first")
    atomic_write_text(path, "second")
    assert path.read_text() == "second"
    assert os.listdir(path.parent) == ["out.txt"]  # no temporary left behind


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.bin"
    atomic_write_bytes(path, b"old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(path, b"new")
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["model.bin"]


def test_json_is_indented_with_a_final_newline(tmp_path):
    atomic_write_json(tmp_path / "r.json", {"b": 1, "a": [1, 2]})
    text = (tmp_path / "r.json").read_text()
    assert text.endswith("}\n") and json.loads(text) == {"b": 1, "a": [1, 2]}
    assert text.startswith('{\n  "b": 1')


def test_sha256_of_is_the_files_digest(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    assert sha256_of(tmp_path / "f") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
