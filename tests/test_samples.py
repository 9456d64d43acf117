"""What verify, report and run stream through a model."""

import pytest

from lutmesh.errors import DataError
from lutmesh.samples import labelled_samples, random_inputs, random_raw_inputs
from lutmesh.testing import random_netlist


def test_random_raw_inputs_quantise_back_to_every_code():
    net = random_netlist(2)
    q = random_inputs(net, 500, seed=3)
    assert (net.quantize(random_raw_inputs(net, 500, seed=3)) == q).all()
    assert (q.max(axis=0) == (1 << net.quantizer.bits) - 1).all()  # full range reached
    assert (q.min(axis=0) == 0).all()


def test_random_samples_for_a_model_without_a_dataset():
    net = random_netlist(1)
    X, y, source = labelled_samples(net, None, 7, seed=0)
    assert X.shape == (7, net.n_features) and y is None and source.startswith("random (7")


def test_the_models_own_test_split_with_labels():
    net = random_netlist(0, features=4).replace(meta={"dataset": "iris"})
    X, y, source = labelled_samples(net, None, 10, seed=0)
    assert X.shape == (10, 4) and y.shape == (10,) and source.startswith("iris test split")


def test_a_dataset_of_another_width_is_refused():
    net = random_netlist(0, features=5)
    with pytest.raises(DataError, match="4 features, the model expects 5"):
        labelled_samples(net, "iris", None, seed=0)
