"""Stage names sort in data-flow order everywhere (tables, charts)."""

from lutmesh.stages import stage_sort_key


def test_stages_sort_in_data_flow_order_layers_by_index():
    names = ["harness", "readout", "layer10", "control", "layer2", "encoder", "credits",
             "output_buffer", "input", "layer0"]
    assert sorted(names, key=stage_sort_key) == [
        "input", "encoder", "layer0", "layer2", "layer10", "readout", "output_buffer",
        "credits", "control", "harness"]


def test_an_unknown_stage_sorts_among_the_layers():
    assert sorted(["readout", "mystery", "encoder"], key=stage_sort_key) == [
        "encoder", "mystery", "readout"]
