"""report.placement: grid placement keeps neighbours near, and nextpnr honours it
(slow)."""

import json

import pytest

from lutmesh.errors import ConfigError
from lutmesh.names import layer_names
from lutmesh.report.placement import DIES, grid_bels
from lutmesh.report.report import make_report
from lutmesh.report.routing import node_sites
from lutmesh.report.targets import get_target

ACTIVITY = {"stages": {"encoder": {"toggle_rate": 0.2}, "layer0": {"toggle_rate": 0.3},
                       "readout": {"toggle_rate": 0.1}, "control": {"toggle_rate": 0.05}}}


def test_grid_placement_keeps_neighbours_near(small):
    ffs = {(i, n): f"ff_{i}_{n}" for i, layer in enumerate(small.layers)
           for n in range(layer.n_nodes)}
    bels = grid_bels(small, ffs, "ice40-up5k")
    assert len(set(bels.values())) == len(bels) == len(ffs)  # one cell each
    assert bels == grid_bels(small, ffs, "ice40-up5k")  # deterministic
    xy = {k: tuple(int(p[1:]) for p in b.split("/")[:2]) for k, b in bels.items()}
    die = DIES["ice40-up5k"]
    assert all(x in die["xs"] and y in die["ys"] for x, y in xy.values())
    layer = small.layers[0]
    key = layer.positions.sum(axis=1)
    corner = [n for n in range(layer.n_nodes) if key[n] == key.min()]
    far = [n for n in range(layer.n_nodes) if key[n] == key.max()]

    def manhattan(a, b):
        return abs(xy[a][0] - xy[b][0]) + abs(xy[a][1] - xy[b][1])

    near = [manhattan(f"ff_0_{a}", f"ff_0_{b}") for a in corner for b in corner]
    dist = [manhattan(f"ff_0_{a}", f"ff_0_{b}") for a in corner for b in far]
    assert max(near) < min(dist)
    with pytest.raises(ConfigError, match="not available for ecp5-85k"):
        grid_bels(small, ffs, "ecp5-85k")


@pytest.mark.slow
def test_grid_placement_is_honoured_by_nextpnr(small, small_rtl, tmp_path):
    """Every pinned node register sits, locked, at its BEL; both seeds are reported."""
    from lutmesh.report.placement import node_flip_flops
    from lutmesh.report.synth import TOP

    r = make_report(small, small_rtl, get_target("ice40-up5k"), tmp_path, activity=ACTIVITY,
                    seeds=2, seed=3, placement="grid", log=lambda *_: None)
    assert r["placement"] == "grid" and r["seed"] == 3 and r["seeds"] == [3, 4]
    assert len(r["fmax_mhz_seeds"]) == 2 and r["fmax_mhz"] == r["fmax_mhz_seeds"][0]
    assert (tmp_path / "work" / "pnr_seed4.json").exists()
    synthesised = json.loads((tmp_path / "work" / "netlist.json").read_text())
    ffs = node_flip_flops(synthesised, small, TOP)
    assert len(ffs) > 0.8 * small.n_nodes
    wanted = grid_bels(small, ffs, "ice40-up5k")
    sites = node_sites(tmp_path / "work" / "routed.json", layer_names(small))
    user = 0b110  # nextpnr's STRENGTH_USER: placed by a constraint, never moved
    assert set(sites) == set(ffs)
    for node, cell in ffs.items():
        assert sites[node] == {"bel": wanted[cell], "strength": user}
    assert (tmp_path / "placement.png").read_bytes()[:4] == b"\x89PNG"
