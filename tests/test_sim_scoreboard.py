"""The scoreboard's rules, on hand-made handshake records (no simulator)."""

from lutmesh.sim.scoreboard import ScenarioRecord, check_scenario

EXPECTED = [3, 1, 4, 1, 5, 9, 2, 6]
LATENCY = 4


def perfect(n=len(EXPECTED), latency=LATENCY):
    return ScenarioRecord("s", accepted=[(c, c) for c in range(n)],
                          produced=[(c + latency, EXPECTED[c]) for c in range(n)],
                          cycles=n + latency + 5)


def test_a_perfect_full_rate_stream_passes():
    c = check_scenario(perfect(), EXPECTED, LATENCY, full_rate=True)
    assert c["passed"], c["problems"]
    assert (c["checked"], c["latency_min"], c["latency_max"]) == (8, 4, 4)
    assert c["throughput_per_cycle"] == 1


def test_a_wrong_class_is_a_mismatch_with_its_sample():
    rec = perfect()
    rec.produced[5] = (rec.produced[5][0], 0)
    c = check_scenario(rec, EXPECTED, LATENCY, full_rate=True)
    assert not c["passed"] and c["mismatches"] == 1
    assert c["first_mismatch"] == {"sample": 5, "expected": 9, "got": 0, "output_cycle": 9}


def test_a_missing_output_is_lost_and_an_extra_one_duplicated():
    rec = perfect()
    rec.produced.pop()
    c = check_scenario(rec, EXPECTED, LATENCY, full_rate=False)
    assert c["lost"] == 1 and not c["passed"]
    rec = perfect()
    rec.produced.append((20, 6))
    c = check_scenario(rec, EXPECTED, LATENCY, full_rate=False)
    assert c["duplicated"] == 1 and not c["passed"]


def test_wrong_latency_or_a_bubble_fails_only_at_full_rate():
    rec = perfect(latency=5)
    assert not check_scenario(rec, EXPECTED, LATENCY, full_rate=True)["passed"]
    assert check_scenario(rec, EXPECTED, LATENCY, full_rate=False)["passed"]
    rec = perfect()
    rec.produced = rec.produced[:4] + [(c + 1, k) for c, k in rec.produced[4:]]
    c = check_scenario(rec, EXPECTED, LATENCY, full_rate=True)
    assert not c["passed"] and c["throughput_per_cycle"] < 1


def test_reset_may_flush_in_flight_samples_but_nothing_old_may_come_out_after():
    # samples 0..3 accepted, reset held in cycles 4..6 flushes them, 4..7 sent after
    accepted = [(0, 0), (1, 1), (2, 2), (3, 3)] + [(7 + i, 4 + i) for i in range(4)]
    produced_ok = [(4, EXPECTED[0])] + [(7 + i + LATENCY, EXPECTED[4 + i]) for i in range(4)]
    rec = ScenarioRecord("r", accepted, produced_ok, resets=[(4, 6)], cycles=20)
    c = check_scenario(rec, EXPECTED, LATENCY, full_rate=False)
    assert c["passed"], c["problems"]
    # an old sample (1) emerging after the reset is an output without an input
    rec = ScenarioRecord("r", accepted, produced_ok[:1] + [(8, EXPECTED[1])] + produced_ok[1:],
                         resets=[(4, 6)], cycles=20)
    c = check_scenario(rec, EXPECTED, LATENCY, full_rate=False)
    assert not c["passed"] and c["duplicated"] == 1
    # a post-reset sample that never comes out is lost
    rec = ScenarioRecord("r", accepted, produced_ok[:-1], resets=[(4, 6)], cycles=20)
    assert check_scenario(rec, EXPECTED, LATENCY, full_rate=False)["lost"] == 1


def test_inputs_accepted_while_reset_is_held_do_not_count():
    accepted = [(5, 0), (8, 1)]
    produced = [(8 + LATENCY, EXPECTED[1])]
    rec = ScenarioRecord("r", accepted, produced, resets=[(4, 6)], cycles=20)
    assert check_scenario(rec, EXPECTED, LATENCY, full_rate=False)["passed"]


def test_valid_while_reset_is_held_fails():
    rec = perfect()
    rec.valid_during_reset = 1
    assert not check_scenario(rec, EXPECTED, LATENCY, full_rate=False)["passed"]


def test_ready_during_reset_and_unknown_pins_fail():
    rec = perfect()
    rec.ready_during_reset = 2
    c = check_scenario(rec, EXPECTED, LATENCY, full_rate=True)
    assert not c["passed"] and c["problems"] == ["i.ready high in 2 cycles while reset was held"]
    rec = perfect()
    rec.unknown_cycles = 5
    c = check_scenario(rec, EXPECTED, LATENCY, full_rate=True)
    assert not c["passed"] and "unknown (x/z) in 5 cycles" in c["problems"][0]
