"""report.routing: nextpnr's routed nets counted as PIPs."""

from lutmesh.report.routing import pips_in, routing_summary, stage_of_net


def test_routing_strings_are_counted_as_pips():
    # nextpnr's ROUTING attribute: wire;pip;strength triples, the driver's wire first
    routing = ("X4/Y22/lutff_3:cout;;1;X4/Y22/lutff_4:in_3;X4/Y22/4.22.lutff_3:cout.->."
               "4.22.lutff_4:in_3;1;X4/Y22/lutff_4:in_3_lut;X4/Y22/4.22.lutff_4:in_3.->."
               "4.22.lutff_4:in_3_lut;1")
    assert pips_in(routing) == 2
    assert pips_in("X10/Y20/lutff_0:cout;;1") == 0 and pips_in(" ") == 0
    assert stage_of_net("core.layer0.l0_r2_c0_1") == "layer0"
    assert stage_of_net("core.output_buffer.tail[1]") == "output_buffer"
    assert stage_of_net("core.valid_1") == "control"
    assert stage_of_net("clk$SB_IO_IN_$glb_clk") == "clock"
    assert stage_of_net("pin_o_ready_0") == "harness" and stage_of_net("shift[3]") == "harness"
    assert stage_of_net("$PACKER_VCC_NET") == "other"
    s = routing_summary({"core.layer0.a": 10, "core.layer1.b": 4, "core.readout.c": 30,
                         "clk": 99}, nodes=2)
    assert s["wires_total"] == 44 and s["nets"] == 3 and s["wires_per_node_mean"] == 7.0
    assert s["longest_net"] == "core.readout.c" and s["by_stage"]["clock"]["wires"] == 99
