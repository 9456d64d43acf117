"""Datasets with fixed, documented splits, and the user's own CSV / NPZ files.

Every loader returns a :class:`Dataset` whose test split never changes between runs,
so that an accuracy figure in a netlist can be reproduced by anyone:

* ``digits``, ``iris``, ``wine``, ``breast-cancer``: scikit-learn's bundled data,
  ``train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)``.
* ``fashion-mnist``, ``mnist``: IDX files, official 60k/10k split.
* ``mnist1d``: the ``mnist1d`` package's generator with its default arguments
  (4,000 train / 1,000 test), generated offline.
* ``FILE.csv`` / ``FILE.npz``: a given test part, or the split rule above.
"""

from __future__ import annotations

import csv
import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError

__all__ = ["Dataset", "load_dataset", "BUILTIN", "FASHION_MNIST_DIR"]

#: Where Debian's ``dataset-fashion-mnist`` package puts the IDX files.
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

BUILTIN = ("digits", "iris", "wine", "breast-cancer", "fashion-mnist", "mnist", "mnist1d")

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")


@dataclass(frozen=True)
class Dataset:
    """Raw features and labels with a fixed train/test split.

    ``image_shape`` is (rows, cols) when features are pixels in row-major order;
    the encoder then keeps that geometry on the input grid. Tabular data has None.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple
    feature_names: tuple
    image_shape: tuple | None = None

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])


def _split(X: np.ndarray, y: np.ndarray):
    from sklearn.model_selection import train_test_split

    try:
        return train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    except ValueError as exc:  # e.g. a class with a single sample cannot be stratified
        raise DataError(f"cannot make the stratified 80/20 split: {exc}") from None


def _finish(name, X_train, y_train, X_test, y_test, class_names=None, feature_names=None,
            image_shape=None) -> Dataset:
    """Check the data, map labels to 0..C-1, and build the Dataset."""
    parts = {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test}
    for part, arr in parts.items():
        if arr.size == 0 or len(arr) == 0:
            raise DataError(f"{name}: {part} is empty")
    for part in ("X_train", "X_test"):
        X = parts[part]
        if X.ndim != 2:
            raise DataError(f"{name}: {part} must be 2-D (samples, features), got shape {X.shape}")
        if X.dtype.kind not in "fiub":
            raise DataError(f"{name}: {part} is not numeric (dtype {X.dtype})")
        bad = np.argwhere(~np.isfinite(X.astype(np.float64)))
        if bad.size:
            r, c = bad[0]
            raise DataError(f"{name}: {part} sample {r}, feature {c} is {X[r, c]} "
                            f"(NaN or infinite values are not accepted)")
    if X_train.shape[1] != X_test.shape[1]:
        raise DataError(f"{name}: X_train has {X_train.shape[1]} features but X_test "
                        f"{X_test.shape[1]}")
    for xs, ys in (("X_train", "y_train"), ("X_test", "y_test")):
        if len(parts[xs]) != len(parts[ys]):
            raise DataError(f"{name}: {xs} has {len(parts[xs])} samples but {ys} "
                            f"has {len(parts[ys])}")
    y_train, y_test = np.asarray(y_train).ravel(), np.asarray(y_test).ravel()
    labels = np.unique(np.concatenate([y_train, y_test]))
    if np.unique(y_train).size < 2:
        raise DataError(f"{name}: the training labels hold {np.unique(y_train).size} class; "
                        f"at least 2 are needed")
    if class_names is None:
        class_names = tuple(str(v) for v in labels)
        lookup = {v: i for i, v in enumerate(labels.tolist())}
        y_train = np.array([lookup[v] for v in y_train.tolist()], dtype=np.int64)
        y_test = np.array([lookup[v] for v in y_test.tolist()], dtype=np.int64)
    if image_shape is not None and int(np.prod(image_shape)) != X_train.shape[1]:
        raise DataError(f"{name}: image shape {tuple(image_shape)} does not match "
                        f"{X_train.shape[1]} features")
    if feature_names is None:
        if image_shape is not None:
            feature_names = tuple(f"px[{r},{c}]" for r in range(image_shape[0])
                                  for c in range(image_shape[1]))
        else:
            feature_names = tuple(f"f{i}" for i in range(X_train.shape[1]))
    return Dataset(name, np.ascontiguousarray(X_train, dtype=np.float64),
                   np.asarray(y_train, dtype=np.int64),
                   np.ascontiguousarray(X_test, dtype=np.float64),
                   np.asarray(y_test, dtype=np.int64), tuple(class_names),
                   tuple(feature_names), None if image_shape is None else tuple(image_shape))


def _sklearn(name: str) -> Dataset:
    from sklearn import datasets as skd

    loader = {"digits": skd.load_digits, "iris": skd.load_iris, "wine": skd.load_wine,
              "breast-cancer": skd.load_breast_cancer}[name]
    bunch = loader()
    X, y = bunch.data, bunch.target
    Xtr, Xte, ytr, yte = _split(X, y)
    if name == "digits":
        return _finish(name, Xtr, ytr, Xte, yte, tuple(str(i) for i in range(10)), None, (8, 8))
    names = tuple(str(n).replace(" ", "_") for n in bunch.feature_names)
    return _finish(name, Xtr, ytr, Xte, yte, tuple(str(t) for t in bunch.target_names), names)


# -- IDX (MNIST-style) -----------------------------------------------------------

def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped) into a numpy array, checking its header."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    if len(data) - header != int(np.prod(shape)):
        raise DataError(f"{path}: expected {int(np.prod(shape))} bytes of data for shape "
                        f"{shape}, found {len(data) - header}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _find_idx(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    raise DataError(f"{directory}: no {stem}[.gz] found")


def _idx_dataset(name: str, data_dir: Path | None) -> Dataset:
    if data_dir is None:
        if name != "fashion-mnist":
            raise DataError(f"{name}: give the directory of its IDX files with --data-dir")
        data_dir = FASHION_MNIST_DIR
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        hint = " (install Debian's dataset-fashion-mnist package, or pass --data-dir)" \
            if name == "fashion-mnist" else ""
        raise DataError(f"{name}: data directory {data_dir} does not exist{hint}")
    parts = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        X = read_idx(_find_idx(data_dir, f"{prefix}-images-idx3-ubyte"))
        y = read_idx(_find_idx(data_dir, f"{prefix}-labels-idx1-ubyte"))
        if X.ndim != 3:
            raise DataError(f"{name}: {split} images must be (n, rows, cols), got {X.shape}")
        parts[split] = (X, y)
    (Xtr, ytr), (Xte, yte) = parts["train"], parts["test"]
    if Xtr.shape[1:] != Xte.shape[1:]:
        raise DataError(f"{name}: train images are {Xtr.shape[1:]} but test images "
                        f"{Xte.shape[1:]}")
    shape = Xtr.shape[1:]
    classes = FASHION_CLASSES if name == "fashion-mnist" else tuple(str(i) for i in range(10))
    return _finish(name, Xtr.reshape(len(Xtr), -1), ytr.astype(np.int64),
                   Xte.reshape(len(Xte), -1), yte.astype(np.int64), classes, None, shape)


def _mnist1d() -> Dataset:
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise DataError("mnist1d: install the optional extra: pip install 'lutmesh[datasets]'") \
            from None
    data = make_dataset(get_dataset_args())
    X, y = np.asarray(data["x"]), np.asarray(data["y"])
    Xt, yt = np.asarray(data["x_test"]), np.asarray(data["y_test"])
    return _finish("mnist1d", X, y, Xt, yt, tuple(str(i) for i in range(10)), None,
                   (1, X.shape[1]))


# -- user files ------------------------------------------------------------------

def _csv(path: Path, label_column: str | None) -> Dataset:
    label_column = label_column or "label"
    try:
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    rows = [r for r in rows if r]
    if not rows:
        raise DataError(f"{path}: the file is empty")
    header = [h.strip() for h in rows[0]]
    if label_column not in header:
        raise DataError(f"{path}: no label column '{label_column}' in the header "
                        f"(columns: {', '.join(header[:10])}{'...' if len(header) > 10 else ''});"
                        f" choose one with --label-column")
    if len(rows) < 2:
        raise DataError(f"{path}: the file has a header but no data rows")
    li = header.index(label_column)
    features = [h for i, h in enumerate(header) if i != li]
    if not features:
        raise DataError(f"{path}: no feature columns besides '{label_column}'")
    X = np.empty((len(rows) - 1, len(features)), dtype=np.float64)
    labels = []
    for r, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DataError(f"{path}: line {r} has {len(row)} fields, the header has "
                            f"{len(header)}")
        labels.append(row[li].strip())
        values = [v for i, v in enumerate(row) if i != li]
        for c, v in enumerate(values):
            try:
                X[r - 2, c] = float(v)
            except ValueError:
                raise DataError(f"{path}: line {r}, column '{features[c]}' is not a number: "
                                f"{v!r}") from None
    y = np.array(labels)
    Xtr, Xte, ytr, yte = _split(X, y)
    return _finish(path.name, Xtr, ytr, Xte, yte, None, tuple(features))


def _npz(path: Path) -> Dataset:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as exc:  # noqa: BLE001 - any unreadable archive is the user's data error
        reason = "it contains pickled objects, which are refused" \
            if "pickle" in str(exc).lower() else str(exc).splitlines()[0] if str(exc) \
            else type(exc).__name__
        raise DataError(f"{path}: not a readable .npz ({reason})") from None
    for key in ("X", "y"):
        if key not in arrays:
            raise DataError(f"{path}: missing array '{key}' (found: {', '.join(arrays) or 'none'})")
    X, y = arrays["X"], arrays["y"]
    image_shape = None
    if X.ndim == 3:
        image_shape = X.shape[1:]
        X = X.reshape(len(X), -1)
    if "X_test" in arrays or "y_test" in arrays:
        if not ("X_test" in arrays and "y_test" in arrays):
            raise DataError(f"{path}: give both X_test and y_test, or neither")
        Xte, yte = arrays["X_test"], arrays["y_test"]
        if Xte.ndim == 3:
            if image_shape is None or Xte.shape[1:] != image_shape:
                raise DataError(f"{path}: X_test images are {Xte.shape[1:]} but X images "
                                f"{image_shape}")
            Xte = Xte.reshape(len(Xte), -1)
        Xtr, ytr = X, y
    else:
        if len(X) != len(y):
            raise DataError(f"{path}: X has {len(X)} samples but y has {len(y)}")
        Xtr, Xte, ytr, yte = _split(X, y)
    return _finish(path.name, Xtr, ytr, Xte, yte, None, None, image_shape)


def load_dataset(name: str, *, data_dir: str | Path | None = None,
                 label_column: str | None = None) -> Dataset:
    """Load a built-in dataset by name, or the user's ``.csv`` / ``.npz`` file.

    Raises
    ------
    DataError
        The name is unknown, or the file is missing, empty, non-numeric, has NaN/inf,
        fewer than two classes, or mismatched lengths/shapes.
    """
    if name in ("digits", "iris", "wine", "breast-cancer"):
        return _sklearn(name)
    if name in ("fashion-mnist", "mnist"):
        return _idx_dataset(name, None if data_dir is None else Path(data_dir))
    if name == "mnist1d":
        return _mnist1d()
    path = Path(name)
    if path.suffix.lower() in (".csv", ".npz"):
        if not path.is_file():
            raise DataError(f"{path}: no such file")
        if path.stat().st_size == 0:
            raise DataError(f"{path}: the file is empty")
        return _csv(path, label_column) if path.suffix.lower() == ".csv" else _npz(path)
    raise DataError(f"unknown dataset '{name}': choose one of {', '.join(BUILTIN)}, "
                    f"or a .csv / .npz file")
