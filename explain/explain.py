"""``lutmesh explain``: formulas, receptive fields, class circuits, audits, pictures, HTML."""

import base64
import html
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..files import atomic_write_text
from ..names import bit_names, layer_names, radius_text
from ..netlist import Netlist
from .audit import audit_sample
from .circuits import BOUNDS, AblatedModel, circuit_netlist
from .fields import field_summary, receptive_fields
from .formulas import layer_patterns, node_formula
from .measures import circuit_links, describe_circuit, pixel_impact
from .pictures import activation_picture, audit_picture, class_picture, fields_picture
from .reference import L1_C, l1_logistic

__all__ = ["explain"]


def _write_json(path: Path, data) -> None:
    atomic_write_text(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def all_formulas(net: Netlist, bits_train: np.ndarray, outs: list[np.ndarray]):
    """Per layer, per node :class:`NodeFormula` (training patterns as don't-cares)."""
    names = layer_names(net)
    labels = bit_names(net)
    prevs = [bits_train] + outs[:-1]
    result = []
    for i, layer in enumerate(net.layers):
        seen = layer_patterns(layer, prevs[i])
        src = labels if i == 0 else names[i - 1]
        result.append([node_formula(layer.tables[n], layer.inputs[n], src, seen[n])
                       for n in range(layer.n_nodes)])
    return result


@dataclass
class _Run:
    """What every step of one ``explain`` call reads: the model, the data, names."""

    net: Netlist
    out: Path
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple | None
    log: object
    names: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    hold_inputs: bool = True  # step 5 of the circuit search (explain.circuits)
    parts: int = 1  # the bound also holds on each of this many parts of the data

    @property
    def flat_names(self) -> list[str]:
        return [n for layer in self.names for n in layer]


def _formulas_step(run: _Run, bits_train, outs) -> tuple:
    """[1/4] every node's formula: formulas.txt and formulas.json."""
    net, names = run.net, run.names
    run.log(f"[1/4] node formulas ({net.n_nodes} nodes, sympy SOPform, unseen patterns as "
            "don't-cares)")
    formulas = all_formulas(net, bits_train, outs)
    kinds: dict = {}
    lines, node_json = [], []
    for i, layer_f in enumerate(formulas):
        lines.append(f"# layer {i}")
        for n, f in enumerate(layer_f):
            kinds[f.kind] = kinds.get(f.kind, 0) + 1
            lines.append(f"{names[i][n]} = {f.text}")
            node_json.append({"node": names[i][n], "layer": i, **f.to_json()})
    atomic_write_text(run.out / "formulas.txt", "\n".join(lines) + "\n")
    _write_json(run.out / "formulas.json", node_json)
    run.log(f"      {', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))}")
    return formulas, kinds, lines


def _fields_step(run: _Run, outs, pictures: dict) -> list[dict]:
    """[2/4] receptive fields: fields.json, fields.png, activation.png."""
    net = run.net
    run.log("[2/4] receptive fields")
    fields = receptive_fields(net)
    summary = field_summary(net)
    _write_json(run.out / "fields.json", {
        "summary": summary,
        "nodes": {run.names[i][n]: np.flatnonzero(f[n]).tolist()
                  for i, f in enumerate(fields) for n in range(f.shape[0])}})
    for s in summary:
        run.log(f"      layer {s['layer']}: mean {s['mean']:.1f}, max {s['max']} features")
    pictures["fields"] = fields_picture(net, fields, run.image_shape, run.out / "fields.png")
    pictures["activation"] = activation_picture(net, outs, run.y_train,
                                                run.out / "activation.png")
    return summary


def _class_entry(run: _Run, model, test_model, reference, c, tolerance, bound, pictures):
    """One class: its circuit, what it costs a reader, how well it detects, its picture."""
    net = run.net
    circ, keep, entry, formulas, measures = describe_circuit(
        model, test_model, c, tolerance, bound, run.names, run.labels, run.hold_inputs,
        run.parts)
    ref = reference[c]
    entry["l1_logistic"] = {"field": ref["field"],
                            "balanced_accuracy_train": ref["balanced_accuracy_train"],
                            "balanced_accuracy_test": ref["balanced_accuracy_test"]}
    entry["formulas"] = [f"{run.names[i][n]} = {f.text}" for i, n, f in formulas]
    impact = pixel_impact(model.holding(circ.held_features), keep, c,
                          measures["field_features"])
    mean_input = run.X_train[run.y_train == c].mean(axis=0) if (run.y_train == c).any() else None
    pictures[f"circuit_{c}"] = class_picture(
        net, c, keep, model.offsets, circuit_links(net, keep, model.offsets,
                                                   circ.held_features),
        measures["field_features"], impact, ref["weights"], run.image_shape, mean_input,
        run.out / f"circuit_{c}.png")
    run.log(f"      class {net.class_names[c]}: {len(circ.nodes)} nodes {circ.per_layer}, "
            f"{entry['edges']} edges, {entry['field']} inputs ({len(circ.held_features)} "
            f"more held), {entry['literals']} literals, "
            f"wire {entry['wire_length']}; balanced {100 * circ.balanced_accuracy:.2f}% "
            f"(full {100 * circ.full_balanced_accuracy:.2f}%), test "
            f"{100 * entry['balanced_accuracy_test']:.2f}% "
            f"(full {100 * entry['full_balanced_accuracy_test']:.2f}%)")
    return circ, keep, entry


def _export(run: _Run, model, circ, entry) -> None:
    """``circuit_C.npz``: the circuit as a netlist ``emit`` and ``verify`` accept."""
    cnet = circuit_netlist(model, circ)
    # the accuracies `lutmesh info` shows, measured on the exported netlist itself
    cnet = cnet.replace(meta={**cnet.meta, "accuracy": {
        "train": float((cnet.predict(run.X_train) == run.y_train).mean()),
        "test": float((cnet.predict(run.X_test) == run.y_test).mean())}})
    if cnet.meta["accuracy"]["train"] != circ.accuracy:
        raise AssertionError("exported circuit disagrees with the ablated model")
    path = cnet.save(run.out / f"circuit_{circ.cls}.npz")
    entry["netlist"] = path.name
    entry["netlist_nodes"] = cnet.n_nodes


def _circuits_step(run: _Run, bits_train, classes, tolerance, bound, export_circuit,
                   pictures) -> tuple:
    """[3/4] class circuits: circuits.json, circuit_C.png (and .npz)."""
    net = run.net
    run.log(f"[3/4] class circuits for {len(classes)} class(es), bound {bound}, tolerance "
            f"{100 * tolerance:g} points (mean ablation, training split)")
    model = AblatedModel(net, bits_train, run.y_train)
    bits_test = net.encode(net.quantize(run.X_test))
    test_model = AblatedModel(net, bits_test, run.y_test, constants=model.constants,
                              bit_constants=model.bit_constants)
    reference = l1_logistic(run.X_train, run.y_train, run.X_test, run.y_test, classes)
    circuits = {}
    for c in classes:
        circ, keep, entry = _class_entry(run, model, test_model, reference, c, tolerance,
                                         bound, pictures)
        if export_circuit:
            _export(run, model, circ, entry)
        circuits[c] = (circ, keep, entry)
    circuit_json = [e for _, _, e in circuits.values()]
    _write_json(run.out / "circuits.json", {
        "bound": bound, "tolerance": tolerance, "data": "training split",
        "method": "mean ablation; ranked prefix + greedy backward elimination with "
                  "re-checking" + ("; then inputs held at their training majority, greedily"
                                   if run.hold_inputs else ""),
        "inputs_held": run.hold_inputs, "parts": run.parts,
        "reference": f"L1 logistic regression, C = {L1_C}",
        "circuits": circuit_json})
    return circuits, model, circuit_json


def _audit_step(run: _Run, sample, formulas, circuits, model, pictures):
    """[4/4] the audit trail of one test sample: audit_I.json, audit_I.png."""
    net = run.net
    if sample is None:
        run.log("[4/4] audit trail: skipped (no --sample)")
        return None
    if not 0 <= sample < len(run.X_test):
        raise ConfigError(f"--sample {sample}: the test split has {len(run.X_test)} samples")
    run.log(f"[4/4] audit trail of test sample {sample}")
    q = net.quantize(run.X_test[sample:sample + 1])[0]
    cls = int(net.predict_quantized(q[None, :])[0])
    keep = circuits[cls][1] if cls in circuits else None
    held = circuits[cls][0].held_features if cls in circuits else ()
    audit = audit_sample(net, q, formulas, run.names, run.labels, keep, model.offsets, held)
    audit["sample"] = sample
    audit["label"] = int(run.y_test[sample])
    audit["circuit"] = "class circuit" if keep is not None else "whole model"
    _write_json(run.out / f"audit_{sample}.json", audit)
    pictures["audit"] = audit_picture(net, run.X_test[sample], audit, run.image_shape,
                                      run.out / f"audit_{sample}.png")
    run.log(f"      predicted {audit['class_name']} (label {audit['label']}); "
            f"{len(audit['fired_voters'])} voters fired, {len(audit['steps'])} nodes on the "
            f"trail, {len(audit['decisive_features'])} deciding inputs")
    return audit


def _new_run(net: Netlist, ds, out: Path, log) -> _Run:
    out.mkdir(parents=True, exist_ok=True)
    return _Run(net, out, np.asarray(ds.X_train, float), np.asarray(ds.y_train),
                np.asarray(ds.X_test, float), np.asarray(ds.y_test),
                getattr(ds, "image_shape", None), log, layer_names(net), bit_names(net))


def wiring_label(net: Netlist) -> str:
    """How a model's layers are wired, from its training config: ``radius 2`` or ``global``."""
    config = net.meta.get("config") or {}
    if "radius" not in config:
        return "wiring unknown"
    text = radius_text(config["radius"])  # a list where the layers differ (saved as JSON)
    return "global" if text == "global" else f"radius {text}"


COMPARED = ("nodes", "edges", "field", "literals", "wire_length", "balanced_accuracy_test")


def compare_summary(this: list[dict], other: list[dict], labels: tuple[str, str]) -> dict:
    """Means of each circuit metric for both models and other/this ratios: of the means,
    and the spread of the per-class ratios (min, max), so a reader sees whether one
    class carries the difference."""
    result = {"models": list(labels), "metrics": {}}
    pairs = {c["class"]: c for c in other}
    for key in COMPARED:
        a = np.array([c[key] for c in this if c["class"] in pairs], float)
        b = np.array([pairs[c["class"]][key] for c in this if c["class"] in pairs], float)
        per_class = b / np.maximum(a, 1e-12)
        result["metrics"][key] = {
            "this": round(float(a.mean()), 4), "other": round(float(b.mean()), 4),
            "ratio": round(float(b.mean() / max(a.mean(), 1e-12)), 3),
            "ratio_min": round(float(per_class.min()), 3),
            "ratio_max": round(float(per_class.max()), 3)}
    return result


def _check_comparable(net: Netlist, other: Netlist) -> None:
    """Two models can be compared class by class only on the same data."""
    data = (net.meta.get("dataset"), other.meta.get("dataset"))
    if other.n_classes != net.n_classes or other.n_features != net.n_features or (
            None not in data and data[0] != data[1]):
        raise ConfigError(f"--compare: that model is of {data[1]} ({other.n_features} "
                          f"features, {other.n_classes} classes), this one of {data[0]} "
                          f"({net.n_features} features, {net.n_classes} classes)")


def _compare_step(run: _Run, other: Netlist, ds, classes, tolerance, bound, circuits,
                  pictures) -> dict:
    """Class circuits of a second model on the same data (``--compare``), written under
    ``compare/``; returns compare.json's data (both models' means and the ratios)."""
    labels = (wiring_label(run.net), wiring_label(other))
    run.log(f"[3b/4] class circuits of the compared model ({labels[1]}, {other.n_nodes} nodes)")
    crun = _new_run(other, ds, run.out / "compare", run.log)
    crun.hold_inputs, crun.parts = run.hold_inputs, run.parts
    bits = other.encode(other.quantize(crun.X_train))
    _, _, circuit_json = _circuits_step(crun, bits, classes, tolerance, bound, False, pictures)
    summary = compare_summary(circuits, circuit_json, labels)
    summary.update(netlist_hash=other.content_hash(), nodes=other.n_nodes,
                   circuits=circuit_json)
    _write_json(run.out / "compare.json", summary)
    for key, m in summary["metrics"].items():
        run.log(f"      {key}: {labels[1]} / {labels[0]} = {m['ratio']:.2f} "
                f"(per class {m['ratio_min']:.2f}..{m['ratio_max']:.2f})")
    return summary


def explain(net: Netlist, ds, out_dir: str | Path, *, classes=None, sample: int | None = None,
            tolerance: float = 0.01, bound: str = "detector", export_circuit: bool = False,
            compare: Netlist | None = None, hold_inputs: bool = True, parts: int = 1,
            log=print) -> dict:
    """Everything ``lutmesh explain`` writes into ``out_dir``; returns explain.json's data.

    ``compare``: a second model of the same data (say, global wiring against this
    one's local wiring) whose class circuits are found the same way and drawn beside
    this model's, with the ratios of their measures (compare.json). ``hold_inputs``:
    let a circuit hold the inputs it can do without at their training majority
    (step 5 of :mod:`lutmesh.explain.circuits`); ``parts``: the bound must also hold
    on each of that many seeded parts of the training split."""
    if bound not in BOUNDS:
        raise ConfigError(f"--bound {bound}: expected one of {', '.join(BOUNDS)}")
    if compare is not None:
        _check_comparable(net, compare)
    out = Path(out_dir)
    t0 = time.perf_counter()
    run = _new_run(net, ds, out, log)
    run.hold_inputs, run.parts = hold_inputs, parts
    bits_train = net.encode(net.quantize(run.X_train))
    outs = net.forward(bits_train)
    pictures: dict = {}
    formulas, kinds, lines = _formulas_step(run, bits_train, outs)
    summary = _fields_step(run, outs, pictures)
    classes = list(range(net.n_classes)) if classes is None else list(classes)
    circuits, model, circuit_json = _circuits_step(run, bits_train, classes, tolerance, bound,
                                                   export_circuit, pictures)
    other_pictures: dict = {}
    compared = (_compare_step(run, compare, ds, classes, tolerance, bound, circuit_json,
                              other_pictures) if compare is not None else None)
    audit = _audit_step(run, sample, formulas, circuits, model, pictures)
    result = {"netlist_hash": net.content_hash(), "nodes": net.n_nodes, "formula_kinds": kinds,
              "fields": summary, "bound": bound, "wiring": wiring_label(net),
              "circuits": circuit_json, "compare": compared, "audit": audit,
              "seconds": round(time.perf_counter() - t0, 1)}
    pictures.update({f"compare_{k}": v for k, v in other_pictures.items()})
    _write_json(out / "explain.json", result)
    write_html(net, result, pictures, out / "explain.html", lines[:400])
    return result


def _img(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img src="data:image/png;base64,{data}" style="max-width:100%">'


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def _circuit_rows(net: Netlist, circuits: list[dict]) -> str:
    e = html.escape
    return "".join(
        f"<tr><td>{e(str(net.class_names[c['class']]))}</td><td>{c['nodes']}</td>"
        f"<td>{c['edges']}</td><td>{c['field']}</td><td>{len(c['held_features'])}</td>"
        f"<td>{c['literals']}</td>"
        f"<td>{c['wire_length']}</td><td>≥ {c['threshold']}</td>"
        f"<td>{_pct(c['balanced_accuracy_train'])} / {_pct(c['full_balanced_accuracy_train'])}"
        f"</td><td>{_pct(c['balanced_accuracy_test'])} / "
        f"{_pct(c['full_balanced_accuracy_test'])}</td>"
        f"<td>{c['l1_logistic']['field']}, {_pct(c['l1_logistic']['balanced_accuracy_test'])}"
        f"</td></tr>" for c in circuits)


def _circuit_sections(net: Netlist, result: dict, pictures: dict) -> list[str]:
    """The table, then per class its picture and the formulas of its nodes."""
    e = html.escape
    bound = result["bound"]
    what = ("its own detector (score ≥ threshold, threshold fixed on the full model) keeps "
            "its balanced one-vs-rest accuracy" if bound == "detector" else
            "the one-vs-rest and overall accuracy stay")
    parts = [
        "<h2>Class circuits</h2>",
        f"<p>Bound <b>{e(bound)}</b>: per class, the fewest nodes (every other node held "
        f"at its most frequent value) such that {what} within the tolerance on the "
        "training data; then the inputs it can do without are held at their most frequent "
        "value too (inputs held). Field: inputs read; literals: total length of the node "
        "formulas; "
        "wire: sum of edge lengths in grid cells. L1: per-class L1 logistic regression "
        "on the same split, the sparse linear reference.</p>",
        "<table><tr><th>class</th><th>nodes</th><th>edges</th><th>field</th>"
        "<th>inputs held</th><th>literals</th>"
        "<th>wire</th><th>detector</th><th>balanced train (circuit / full)</th>"
        "<th>balanced test (circuit / full)</th><th>L1 logistic (field, balanced test)</th>"
        f"</tr>{_circuit_rows(net, result['circuits'])}</table>"]
    compare = result.get("compare")
    if compare:
        parts += _compare_table(compare)
    others = {c["class"]: c for c in compare["circuits"]} if compare else {}
    for c in result["circuits"]:
        name = e(str(net.class_names[c["class"]]))
        mine = _circuit_cell(c, pictures[f"circuit_{c['class']}"])
        if c["class"] not in others:
            parts += [f"<h3>Class {name}: {c['nodes']} nodes, {c['field']} inputs</h3>", mine]
            continue
        o = others[c["class"]]
        theirs = _circuit_cell(o, pictures[f"compare_circuit_{c['class']}"])
        parts += [f"<h3>Class {name}</h3><table class='side'><tr><th>{e(result['wiring'])}: "
                  f"{c['nodes']} nodes, {c['field']} inputs, wire {c['wire_length']}</th>"
                  f"<th>{e(compare['models'][1])}: {o['nodes']} nodes, {o['field']} inputs, "
                  f"wire {o['wire_length']}</th></tr><tr><td>{mine}</td><td>{theirs}</td></tr>"
                  "</table>"]
    return parts


def _circuit_cell(c: dict, picture: Path) -> str:
    """A circuit's picture and, folded, its node formulas."""
    return (_img(picture) + f"<details><summary>its {len(c['formulas'])} node formulas, as "
            "the circuit computes them</summary><pre>" + html.escape("\n".join(c["formulas"]))
            + "</pre></details>")


def _compare_table(compare: dict) -> list[str]:
    """Both models' mean circuit measures and the ratio, with its per-class spread."""
    e = html.escape
    this, other = (e(m) for m in compare["models"])
    rows = "".join(
        f"<tr><td>{e(k)}</td><td>{m['this']:g}</td><td>{m['other']:g}</td>"
        f"<td>{m['ratio']:.2f} ({m['ratio_min']:.2f} – {m['ratio_max']:.2f})</td></tr>"
        for k, m in compare["metrics"].items())
    return [f"<h3>{this} beside {other}</h3>",
            f"<p>The same search on a second model of the same data ({other}, "
            f"{compare['nodes']} nodes); means over the classes, and {other} / {this} "
            "with the smallest and largest per-class ratio.</p>",
            f"<table><tr><th>measure</th><th>{this}</th><th>{other}</th>"
            f"<th>{other} / {this}</th></tr>{rows}</table>"]


def write_html(net: Netlist, result: dict, pictures: dict, path: Path, formula_lines) -> None:
    """One self-contained page (pictures embedded) for a person to open."""
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>lutmesh explain</title>",
        "<style>body{font-family:sans-serif;max-width:1200px;margin:auto}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd}pre{font-size:11px;"
        "max-height:400px;overflow:auto;background:#f6f6f6}"
        "table.side td{vertical-align:top;width:50%}</style></head><body>",
        f"<h1>lutmesh explain: {e(str(net.meta.get('dataset', '?')))}, {net.n_nodes} nodes</h1>",
        f"<p>netlist {result['netlist_hash'][:16]}; node kinds: "
        + ", ".join(f"{v} {e(k)}" for k, v in sorted(result["formula_kinds"].items())) + "</p>",
    ]
    parts += _circuit_sections(net, result, pictures)
    parts += ["<h2>Activations</h2>", _img(pictures["activation"]),
              "<h2>Receptive fields</h2>", _img(pictures["fields"])]
    if "audit" in pictures and result["audit"]:
        a = result["audit"]
        steps = "\n".join(f"{s['node']} = {s['value']}: {s['formula']}" for s in a["steps"][:60])
        parts += [f"<h2>Audit: test sample {a['sample']}</h2>", _img(pictures["audit"]),
                  f"<p>predicted {e(a['class_name'])}, label {a['label']}; scores "
                  f"{a['scores']}; deciding inputs: {e(', '.join(a['decisive_feature_names']))}</p>",
                  f"<pre>{e(steps)}</pre>"]
    parts += ["<h2>Node formulas (whole model)</h2>",
              f"<pre>{e(chr(10).join(formula_lines))}</pre>", "</body></html>"]
    atomic_write_text(path, "\n".join(parts))
