"""What the training benchmarks share: the data sets named on the command line."""

from lutmesh.datasets import load_dataset
from lutmesh.errors import DataError


def available_datasets(names: str):
    """``(name, Dataset)`` for each comma-separated name that loads here; a data set
    that is missing (Fashion-MNIST without its IDX files) is skipped with its reason."""
    for name in names.split(","):
        try:
            yield name, load_dataset(name)
        except DataError as exc:
            print(f"{name:<14} skipped: {exc}")
