"""The compiled full-rate harness (lutmesh.sim.bulk) on the real Verilator."""

import json
import os
import time

import numpy as np
import pytest

from lutmesh import bitsliced
from lutmesh.cli import main
from lutmesh.hdl.emit import EmitOptions, emit_verilog, load_rtl
from lutmesh.sim.bulk import (SHARD_MIN_SAMPLES, BulkDesign, build_bulk, bulk_processes,
                              RandomPayloads, check_bulk, check_sharded, merge_checks, pack_words,
                              run_bulk, splitmix_words, start_sharded, unpack_words)
from lutmesh.sim.scoreboard import Scenario
from lutmesh.sim.verify import pack_payloads, verify
from lutmesh.testing import random_inputs, random_netlist, random_raw_inputs

from test_sim_verify import flip_one_bit_that_matters


def test_packed_words_are_the_payload_integers_even_past_64_bits():
    # 30 features of 1..6 bits: a payload of about 100 bits, fields straddling words
    net = random_netlist(5, features=30, k=3, layers=1, nodes_per_layer=8, classes=2)
    q = random_inputs(net, 200, seed=1)
    features, pos = [], 0
    for b in net.quantizer.bits:
        features.append({"lsb": pos, "width": int(b)})
        pos += int(b)
    assert pos > 64
    words = pack_words(q, features, pos)
    assert words.dtype == np.uint32 and words.shape == (200, -(-pos // 32))
    as_int = [sum(int(w) << (32 * i) for i, w in enumerate(row)) for row in words]
    assert as_int == pack_payloads(features, q)
    # chunked packing (chunks of 7 samples, the last one short) gives the same words
    np.testing.assert_array_equal(pack_words(q, features, pos, chunk=7), words)


def test_unpacked_words_are_the_samples():
    net = random_netlist(5, features=30, k=3, layers=1, nodes_per_layer=8, classes=2)
    features, pos = [], 0
    for b in net.quantizer.bits:
        features.append({"lsb": pos, "width": int(b)})
        pos += int(b)
    q = random_inputs(net, 300, seed=4)
    np.testing.assert_array_equal(unpack_words(pack_words(q, features, pos), features, chunk=7), q)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_splitmix_words_are_splitmix64_from_any_counter(backend, monkeypatch):
    monkeypatch.setattr(bitsliced, "BACKEND", backend)  # as LUTMESH_BITSLICED_BACKEND does
    # splitmix64.c (Vigna) from state 0 returns 0xE220A8397B1DCDAF first
    assert int(splitmix_words(0, 0, 1)[0]) == 0xE220A8397B1DCDAF
    whole = splitmix_words(12345, 0, 1000)
    np.testing.assert_array_equal(splitmix_words(12345, 700, 300), whole[700:])
    assert len(np.unique(whole)) == 1000
    assert not np.array_equal(whole, splitmix_words(12346, 0, 1000))
    # counters past 2**32 and keys past 2**63 wrap like the C++ uint64_t
    far = splitmix_words(2**64 - 5, 2**40, 3)
    want = []
    for i in range(2**40, 2**40 + 3):
        z = (2**64 - 5 + (i + 1) * 0x9E3779B97F4A7C15) % 2**64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
        want.append(z ^ (z >> 31))
    assert [int(v) for v in far] == want


def planes_of(words: np.ndarray) -> np.ndarray:
    """Payload words (S, n) as bit planes of 64 samples, built the plain way."""
    bits = np.unpackbits(words.view(np.uint8), axis=1, bitorder="little")  # (S, 32 n)
    bits = np.pad(bits, ((0, -len(bits) % 64), (0, -bits.shape[1] % 64)))
    blocks = bits.reshape(-1, 64, bits.shape[1]).transpose(0, 2, 1)  # (B, P, 64)
    return np.packbits(np.ascontiguousarray(blocks), axis=2, bitorder="little").view("<u8")[..., 0]


@pytest.mark.parametrize("width", [7, 64, 100, 129])
def test_random_payloads_are_seeded_bit_planes_covering_every_code(width):
    widths = [3, 4] + [8] * ((width - 7) // 8) + ([(width - 7) % 8] if (width - 7) % 8 else [])
    features = [{"lsb": lsb, "width": w} for lsb, w in zip(np.cumsum([0] + widths[:-1]), widths)]
    n_words = max(2, -(-width // 32))
    r = RandomPayloads.draw(4000 + 37, width, seed=9)
    np.testing.assert_array_equal(r.planes, RandomPayloads.draw(4037, width, seed=9).planes)
    assert not np.array_equal(r.planes, RandomPayloads.draw(4037, width, seed=10).planes)
    assert r.planes.shape == (-(-4037 // 64), 64 * max(1, -(-width // 64)))
    words = r.words(0, r.samples, n_words)
    assert words.shape == (4037, n_words)
    # the planes are the payloads' bits, sample j of a block at bit j (the last
    # block's bits past the samples are not samples)
    plain, drawn = planes_of(words), r.planes.copy()
    drawn[-1] &= np.uint64((1 << (4037 % 64)) - 1)
    np.testing.assert_array_equal(plain, drawn[:, :plain.shape[1]])
    got = unpack_words(words, features)
    for f, w in enumerate(widths):  # every code of every field is drawn, no more
        assert len(np.unique(got[:, f])) == 1 << w, f
    np.testing.assert_array_equal(pack_words(got, features, width), words)  # nothing past it
    # a part from a block boundary, and a few words from the middle
    part = r.part(128, 1000)
    assert part.samples == 872
    np.testing.assert_array_equal(part.planes, r.planes[2:16])  # the same samples
    np.testing.assert_array_equal(part.words(0, 872, n_words), words[128:1000])
    np.testing.assert_array_equal(r.words(130, 133, n_words), words[130:133])
    with pytest.raises(ValueError, match="block"):
        r.part(100, 200)


def test_a_missing_harness_is_a_tool_error_in_the_callers_thread(tmp_path):
    from lutmesh.errors import ToolError
    from lutmesh.sim.bulk import BulkBuild, start_bulk

    design = BulkDesign(tmp_path / "x.v", {"latency_cycles": 3, "outputs": [{"width": 2}]})
    build = BulkBuild(tmp_path / "no-such-harness", (design,), 0.0, True)
    run = start_bulk(build, [np.zeros((4, 2), dtype=np.uint32)], tmp_path / "work")
    with pytest.raises(ToolError, match="did not start"):
        run.result()


def good_record(expected, latency=5):
    n = len(expected)
    return {"n_in": n, "n_out": n, "cycles": n + latency + 6, "ready_low": 0,
            "lat_min": latency, "lat_max": latency, "bad_latency": 0, "first_out": latency,
            "last_out": latency + n - 1, "classes": np.array(expected)}


def test_check_bulk_names_every_broken_promise():
    expected = np.array([0, 1, 2, 1, 0, 2, 2, 1])
    assert check_bulk(good_record(expected), expected, 5)["passed"]
    wrong = good_record(expected)
    wrong["classes"] = expected.copy()
    wrong["classes"][3] = 0
    c = check_bulk(wrong, expected, 5)
    assert not c["passed"] and c["mismatches"] == 1
    assert c["first_mismatch"] == {"sample": 3, "expected": 1, "got": 0, "output_cycle": 8}
    stalled = dict(good_record(expected), ready_low=2, last_out=5 + 7 + 2)
    assert check_bulk(stalled, expected, 5)["problems"] == [
        "i.ready low in 2 cycles of a full-rate stream",
        "throughput 0.7777777777777778 samples/cycle at full rate, expected 1"]
    slow = dict(good_record(expected), lat_max=6, bad_latency=1)
    assert check_bulk(slow, expected, 5)["problems"] == [
        "latency 5-6 cycles in 1 samples, manifest says 5"]
    lost = dict(good_record(expected), n_out=6, classes=expected[:6], last_out=10)
    assert check_bulk(lost, expected, 5)["problems"] == [
        "2 accepted inputs never produced an output (lost)"]
    dup = dict(good_record(expected), n_out=9, classes=np.append(expected, 0), last_out=13)
    assert check_bulk(dup, expected, 5)["problems"] == [
        "1 outputs without a matching input (duplicated)"]


def test_merged_parts_count_everything_and_name_the_part_of_a_mismatch():
    expected = np.array([0, 1, 2, 1, 0, 2, 2, 1])
    first, second = expected[:5], expected[5:]
    wrong = dict(good_record(second), classes=np.array([2, 0, 1]))
    checks = [check_bulk(good_record(first), first, 5), check_bulk(wrong, second, 5)]
    merged = merge_checks(checks, [0, 5])
    assert not merged["passed"] and merged["processes"] == 2
    assert merged["checked"] == merged["accepted"] == 8 and merged["mismatches"] == 1
    assert merged["cycles"] == checks[0]["cycles"] + checks[1]["cycles"]
    assert merged["first_mismatch"] == {"sample": 6, "expected": 2, "got": 0,
                                        "output_cycle": 6, "process": 1}
    assert merged["problems"] == ["process 1 (from sample 5): 1 outputs differ from the "
                                  "golden model"]
    assert merge_checks(checks[:1], [0]) == dict(checks[0], processes=1)
    assert merge_checks([checks[0], checks[0]], [0, 5])["passed"]


def test_harness_processes_follow_the_cores_but_never_split_a_short_stream():
    assert bulk_processes(10) == 1
    assert bulk_processes(10 * SHARD_MIN_SAMPLES, 2) == 2
    assert bulk_processes(SHARD_MIN_SAMPLES + 1, 4) == 1
    assert 1 <= bulk_processes(10 ** 7) <= (os.cpu_count() or 1)


@pytest.fixture(scope="module")
def wide_net():
    # 30 features: an input payload over 64 bits (VlWide in Verilator's C++)
    return random_netlist(17, features=30, k=4, layers=2, nodes_per_layer=30, classes=3,
                          radius=2, p_unused=0.1)


@pytest.mark.slow
def test_bulk_alone_catches_a_flipped_table_bit(wide_net, tmp_path, capsys):
    X = random_raw_inputs(wide_net, 300, seed=2)
    flipped, changed = flip_one_bit_that_matters(wide_net, X)
    emit_verilog(flipped, tmp_path / "bad_rtl")
    _, manifest = load_rtl(tmp_path / "bad_rtl")
    assert manifest["ports"][0]["width"] > 64
    model = tmp_path / "model.npz"
    wide_net.save(model)
    args = ["verify", str(model), "--no-activity", "--dataset", "random", "--samples", "300",
            "--seed", "2", "--bulk-samples", "5000"]
    only_bulk = (Scenario("full_rate", path="bulk"),)
    bad = verify(wide_net, X, tmp_path / "bad", rtl_dir=tmp_path / "bad_rtl", scenarios=only_bulk,
                 activity=False, log=lambda *_: None)
    assert not bad["passed"] and bad["scenarios"][0]["path"] == "bulk"
    assert bad["mismatches"] >= len(changed)
    assert bad["first_mismatch"]["sample"] == int(changed[0])
    # the random samples alone (drawn as bit planes, transposed by the harness) find
    # it too, and the report names the codes of the first one that differs
    kept = np.setdiff1d(np.arange(len(X)), changed)
    bad = verify(wide_net, X[kept], tmp_path / "bad_random", rtl_dir=tmp_path / "bad_rtl",
                 scenarios=only_bulk, activity=False, bulk_samples=3000, seed=4,
                 log=lambda *_: None)
    first = bad["scenarios"][0]["first_mismatch"]
    assert not bad["passed"] and first["sample"] >= len(kept)
    codes = np.array([first["quantized"]])
    assert flipped.predict_quantized(codes)[0] == first["got"] != first["expected"]
    assert wide_net.predict_quantized(codes)[0] == first["expected"]
    # the CLI, default scenarios: bulk full rate with 5000 extra random samples
    assert main(args + ["--out", str(tmp_path / "good")]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "full_rate" in out and "bulk" in out
    good = json.loads((tmp_path / "good" / "verify.json").read_text())
    full = good["scenarios"][0]
    assert full["scenario"] == "full_rate" and full["path"] == "bulk"
    assert full["checked"] == 5300 and full["mismatches"] == 0 and good["bulk_samples"] == 5000
    assert full["latency_min"] == full["latency_max"] == good["latency_cycles"]
    assert full["throughput_per_cycle"] == 1 and full["samples_per_second"] > 0
    assert full["golden_setup_seconds"] >= 0
    assert all(c["path"] == "cocotb" for c in good["scenarios"][1:])


@pytest.mark.slow
def test_a_stream_split_over_harness_processes_still_finds_the_flipped_bit(wide_net, tmp_path):
    X = random_raw_inputs(wide_net, 600, seed=5)
    flipped, changed = flip_one_bit_that_matters(wide_net, X)
    assert 0 < len(changed) < 300
    # the samples the flip changes last, so that the first mismatch is in the second part
    order = np.concatenate([np.setdiff1d(np.arange(len(X)), changed), changed])
    X = X[order]
    q = wide_net.quantize(X)
    expected = wide_net.predict_quantized(q)
    for net, name in ((flipped, "bad"), (wide_net, "good")):
        emit_verilog(net, tmp_path / name)
        verilog, manifest = load_rtl(tmp_path / name)
        build = build_bulk([BulkDesign(verilog, manifest)], opt="build")
        words = pack_words(q, manifest["features"], manifest["ports"][0]["width"])
        runs = start_sharded(build, words, tmp_path / f"{name}_work", 2)
        check, seconds = check_sharded(runs, expected, manifest["latency_cycles"])
        assert check["processes"] == 2 and check["checked"] == len(X) and seconds > 0
        if name == "good":
            assert check["passed"], check["problems"]
        else:
            assert check["mismatches"] == len(changed)
            assert check["first_mismatch"]["sample"] == len(X) - len(changed)
            assert check["first_mismatch"]["process"] == 1


# -- the differential campaign ----------------------------------------------

CAMPAIGN_SEEDS = range(1000, 1056)  # 56 netlists
BATCH = 14  # designs per Verilator build: 4 builds
SAMPLES = 3000


def campaign_netlist(seed: int):
    """Every argument drawn from the seed (K 2-6, radii 0-2 or global, 2-5 classes,
    1-4 x 1-4 grids, 1-3 layers), a few with more features for wide payloads."""
    return random_netlist(seed, features=(24 if seed % 7 == 0 else None))


def run_batch(seeds, tmp_path) -> list[str]:
    designs, nets = [], []
    for j, seed in enumerate(seeds):
        net = campaign_netlist(seed)
        emit_verilog(net, tmp_path / f"rtl{seed}", EmitOptions(top=f"campaign{seed}"))
        designs.append(BulkDesign(*load_rtl(tmp_path / f"rtl{seed}")))
        nets.append(net)
    build = build_bulk(designs, opt="build")
    qs = [random_inputs(net, SAMPLES, seed=seed) for net, seed in zip(nets, seeds)]
    words = [pack_words(q, d.manifest["features"], d.port("i__payload"))
             for q, d in zip(qs, designs)]
    records, _ = run_bulk(build, words, tmp_path / f"work{seeds[0]}")
    failed = []
    for seed, net, q, d, rec in zip(seeds, nets, qs, designs, records):
        c = check_bulk(rec, net.predict_quantized(q), d.manifest["latency_cycles"])
        if not (c["passed"] and c["checked"] == SAMPLES):
            failed.append(f"seed {seed}: {c['problems']}")
    return failed


@pytest.mark.slow
def test_campaign_of_random_netlists_matches_the_golden_model(tmp_path):
    seeds = list(CAMPAIGN_SEEDS)
    nets = [campaign_netlist(s) for s in seeds]
    ks = {layer.k for n in nets for layer in n.layers}
    radii = {layer.radius for n in nets for layer in n.layers}
    assert len(seeds) >= 50 and ks >= {2, 3, 4, 5, 6} and None in radii and {0, 1, 2} <= radii
    assert {n.n_classes for n in nets} >= {2, 3, 4, 5}
    t0 = time.perf_counter()
    failed = []
    for i in range(0, len(seeds), BATCH):
        failed += run_batch(seeds[i:i + BATCH], tmp_path)
    print(f"campaign: {len(seeds)} netlists x {SAMPLES} samples in "
          f"{time.perf_counter() - t0:.1f} s")
    assert not failed, failed


def test_whole_byte_fields_and_empty_fields_unpack_like_any_other():
    # 8-bit pixels on byte boundaries take the one-gather path; a field of width 0
    # in the middle makes the fields a subset of the features
    rng = np.random.default_rng(3)
    widths = [8] * 9 + [0] + [8] * 6
    features, pos = [], 0
    for b in widths:
        features.append({"lsb": pos, "width": b})
        pos += b
    q = rng.integers(0, 256, size=(500, len(widths)))
    q[:, 9] = 0
    words = pack_words(q, features, pos)
    got = unpack_words(words, features, chunk=64)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, q)
    mixed = features[:3] + [{"lsb": pos, "width": 5}]  # one field not whole bytes
    q5 = np.concatenate([q[:, :3], rng.integers(0, 32, size=(500, 1))], axis=1)
    np.testing.assert_array_equal(unpack_words(pack_words(q5, mixed, pos + 5), mixed), q5)


def test_wide_fields_straddling_bytes_and_words_unpack_exactly():
    rng = np.random.default_rng(5)
    widths = [12, 16, 3, 16, 9, 30]
    features, pos = [], 0
    for b in widths:
        features.append({"lsb": pos, "width": b})
        pos += b
    q = np.stack([rng.integers(0, 1 << b, size=400) for b in widths], axis=1)
    got = unpack_words(pack_words(q, features, pos), features, chunk=100)
    assert got.dtype == np.uint32
    np.testing.assert_array_equal(got, q)
