import gzip
import struct

import numpy as np
import pytest

from lutmesh.cli import main
from lutmesh.errors import DataError
from lutmesh.datasets import load_dataset, read_idx


def test_digits_split_is_fixed():
    a, b = load_dataset("digits"), load_dataset("digits")
    assert a.X_train.shape == (1437, 64) and a.X_test.shape == (360, 64)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert a.image_shape == (8, 8)


@pytest.mark.parametrize("name, n_classes", [("iris", 3), ("wine", 3), ("breast-cancer", 2)])
def test_tabular_builtins(name, n_classes):
    d = load_dataset(name)
    assert d.n_classes == n_classes and d.image_shape is None
    assert len(d.X_test) == pytest.approx(0.2 * (len(d.X_train) + len(d.X_test)), abs=1)


def write_csv(path, text):
    path.write_text(text)
    return path


def test_csv_with_label_column(tmp_path):
    rows = ["a,b,label"] + [f"{i},{i % 3},{'x' if i % 2 else 'y'}" for i in range(40)]
    d = load_dataset(str(write_csv(tmp_path / "d.csv", "\n".join(rows))))
    assert d.n_classes == 2 and d.n_features == 2 and d.class_names == ("x", "y")
    rows = ["cls,a"] + [f"{i % 2},{i}" for i in range(40)]
    d = load_dataset(str(write_csv(tmp_path / "e.csv", "\n".join(rows))), label_column="cls")
    assert d.n_features == 1


def test_npz_with_test_part_and_images(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", X=rng.random((30, 4, 5)), y=np.arange(30) % 3,
             X_test=rng.random((10, 4, 5)), y_test=np.arange(10) % 3)
    d = load_dataset(str(tmp_path / "d.npz"))
    assert d.image_shape == (4, 5) and len(d.X_test) == 10


BAD = [
    ("missing.csv", None, "no such file"),
    ("empty.csv", "", "the file is empty"),
    ("nan.csv", "a,label\n1,0\nnan,1\n2,0\n3,1\n4,0\n5,1\n6,0\n7,1\n8,0\n9,1", "NaN or infinite"),
    ("inf.csv", "a,label\n1,0\ninf,1\n2,0\n3,1\n4,0\n5,1\n6,0\n7,1\n8,0\n9,1", "NaN or infinite"),
    ("text.csv", "a,label\n1,0\nhello,1\n", "line 3, column 'a' is not a number: 'hello'"),
    ("oneclass.csv", "a,label\n" + "\n".join(f"{i},0" for i in range(20)), "at least 2"),
    ("nolabel.csv", "a,b\n1,2\n", "no label column 'label'"),
    ("ragged.csv", "a,label\n1,0\n2\n", "line 3 has 1 fields"),
]


@pytest.mark.parametrize("name, content, message", BAD)
def test_bad_csv_is_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_dataset(str(path))


def test_bad_npz_cases(tmp_path):
    np.savez(tmp_path / "mismatch.npz", X=np.zeros((10, 2)), y=np.zeros(9))
    with pytest.raises(DataError, match="X has 10 samples but y has 9"):
        load_dataset(str(tmp_path / "mismatch.npz"))
    np.savez(tmp_path / "shape.npz", X=np.zeros((10, 2, 2)), y=np.arange(10) % 2,
             X_test=np.zeros((4, 3, 3)), y_test=np.arange(4) % 2)
    with pytest.raises(DataError, match=r"X_test images are \(3, 3\) but X images \(2, 2\)"):
        load_dataset(str(tmp_path / "shape.npz"))
    np.savez(tmp_path / "pickle.npz", X=np.array([{"a": 1}] * 4, dtype=object), y=np.arange(4))
    with pytest.raises(DataError, match="pickled"):
        load_dataset(str(tmp_path / "pickle.npz"))


def test_unknown_dataset():
    with pytest.raises(DataError, match="unknown dataset 'nope'"):
        load_dataset("nope")


def write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def test_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (20, 6, 6)))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.arange(20) % 10)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (10, 6, 6)))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.arange(10) % 10)
    d = load_dataset("mnist", data_dir=tmp_path)
    assert d.image_shape == (6, 6) and len(d.X_test) == 10
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03\x00\x00\x00\x05")
    with pytest.raises(DataError, match="truncated IDX header"):
        read_idx(bad / "x-idx3-ubyte")


def test_train_cli_bad_data_exits_2(tmp_path, capsys):
    path = tmp_path / "nan.csv"
    path.write_text(BAD[2][1])
    assert main(["train", "--dataset", str(path), "--out", str(tmp_path / "m.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "NaN" in err[0]
    assert not (tmp_path / "m.npz").exists()


def test_train_cli_bad_option_exits_2(tmp_path, capsys):
    assert main(["train", "--lut-inputs", "9", "--out", str(tmp_path / "m.npz")]) == 2
    assert "lut_inputs = 9" in capsys.readouterr().err
    cfg = tmp_path / "c.toml"
    cfg.write_text("[train]\nbogus = 1\n")
    assert main(["train", "--config", str(cfg), "--out", str(tmp_path / "m.npz")]) == 2
    assert "unknown option 'bogus'" in capsys.readouterr().err
