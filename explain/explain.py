"""``lutmesh explain``: formulas, receptive fields, class circuits, audits, pictures, HTML."""

import base64
import html
import json
import time
from pathlib import Path

import numpy as np

from ..files import atomic_write_text
from ..netlist import Netlist
from .audit import audit_sample
from .circuits import AblatedModel, circuit_netlist, find_class_circuit
from .fields import field_summary, receptive_fields
from .formulas import layer_patterns, node_formula
from ..names import bit_names, layer_names
from .pictures import activation_picture, audit_picture, circuit_picture, fields_picture

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


def explain(net: Netlist, ds, out_dir: str | Path, *, classes=None, sample: int | None = None,
            tolerance: float = 0.01, export_circuit: bool = False, log=print) -> dict:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    X_train, y_train = np.asarray(ds.X_train, float), np.asarray(ds.y_train)
    X_test, y_test = np.asarray(ds.X_test, float), np.asarray(ds.y_test)
    bits_train = net.encode(net.quantize(X_train))
    outs = net.forward(bits_train)
    names = layer_names(net)
    flat_names = [n for layer in names for n in layer]
    labels = bit_names(net)

    log(f"[1/4] node formulas ({net.n_nodes} nodes, sympy SOPform, unseen patterns as don't-cares)")
    formulas = all_formulas(net, bits_train, outs)
    kinds: dict = {}
    lines = []
    node_json = []
    for i, layer_f in enumerate(formulas):
        lines.append(f"# layer {i}")
        for n, f in enumerate(layer_f):
            kinds[f.kind] = kinds.get(f.kind, 0) + 1
            lines.append(f"{names[i][n]} = {f.text}")
            node_json.append({"node": names[i][n], "layer": i, **f.to_json()})
    atomic_write_text(out / "formulas.txt", "\n".join(lines) + "\n")
    _write_json(out / "formulas.json", node_json)
    log(f"      {', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))}")

    log("[2/4] receptive fields")
    fields = receptive_fields(net)
    summary = field_summary(net)
    _write_json(out / "fields.json", {
        "summary": summary,
        "nodes": {names[i][n]: np.flatnonzero(f[n]).tolist()
                  for i, f in enumerate(fields) for n in range(f.shape[0])}})
    for s in summary:
        log(f"      layer {s['layer']}: mean {s['mean']:.1f}, max {s['max']} features")
    image_shape = getattr(ds, "image_shape", None)
    pictures = {"fields": fields_picture(net, fields, image_shape, out / "fields.png"),
                "activation": activation_picture(net, outs, y_train, out / "activation.png")}

    classes = list(range(net.n_classes)) if classes is None else list(classes)
    log(f"[3/4] class circuits for {len(classes)} class(es), tolerance {100 * tolerance:g} "
        "points (mean ablation, training split)")
    model = AblatedModel(net, bits_train, y_train)
    circuits = {}
    bits_test = net.encode(net.quantize(X_test))
    test_model = AblatedModel(net, bits_test, y_test, constants=model.constants)
    for c in classes:
        circ = find_class_circuit(model, c, tolerance)
        keep = np.zeros(model.n_nodes, dtype=bool)
        keep[circ.nodes] = True
        test_pred = test_model.predict(keep)
        entry = circ.to_json(flat_names)
        entry["test_accuracy"] = float((test_pred == y_test).mean())
        entry["test_one_vs_rest"] = float(((test_pred == c) == (y_test == c)).mean())
        entry["receptive_field"] = int(np.any(np.concatenate(
            [fields[i][keep[model.offsets[i]:model.offsets[i + 1]]]
             for i in range(len(fields))]), axis=0).sum())
        pictures[f"circuit_{c}"] = circuit_picture(net, keep, model.offsets, c,
                                                   out / f"circuit_{c}.png")
        if export_circuit:
            cnet = circuit_netlist(model, circ)
            # the accuracies `lutmesh info` shows, measured on the exported netlist itself
            cnet = cnet.replace(meta={**cnet.meta, "accuracy": {
                "train": float((cnet.predict(X_train) == y_train).mean()),
                "test": float((cnet.predict(X_test) == y_test).mean())}})
            if cnet.meta["accuracy"]["train"] != circ.accuracy:
                raise AssertionError("exported circuit disagrees with the ablated model")
            path = cnet.save(out / f"circuit_{c}.npz")
            entry["netlist"] = path.name
            entry["netlist_nodes"] = cnet.n_nodes
        circuits[c] = (circ, keep, entry)
        log(f"      class {net.class_names[c]}: {len(circ.nodes)} nodes {circ.per_layer}, "
            f"{circ.edges} edges; one-vs-rest {100 * circ.one_vs_rest:.2f}% "
            f"(full {100 * circ.full_one_vs_rest:.2f}%), accuracy {100 * circ.accuracy:.2f}% "
            f"(full {100 * circ.full_accuracy:.2f}%)")
    circuit_json = [e for _, _, e in circuits.values()]
    _write_json(out / "circuits.json", {"tolerance": tolerance, "data": "training split",
                                        "method": "mean ablation; ranked prefix + greedy "
                                                  "backward elimination with re-checking",
                                        "circuits": circuit_json})

    audit = None
    if sample is not None:
        if not 0 <= sample < len(X_test):
            from ..errors import ConfigError
            raise ConfigError(f"--sample {sample}: the test split has {len(X_test)} samples")
        log(f"[4/4] audit trail of test sample {sample}")
        q = net.quantize(X_test[sample:sample + 1])[0]
        cls = int(net.predict_quantized(q[None, :])[0])
        keep = circuits[cls][1] if cls in circuits else None
        audit = audit_sample(net, q, formulas, names, labels, keep, model.offsets)
        audit["sample"] = sample
        audit["label"] = int(y_test[sample])
        audit["circuit"] = "class circuit" if keep is not None else "whole model"
        _write_json(out / f"audit_{sample}.json", audit)
        pictures["audit"] = audit_picture(net, X_test[sample], audit, image_shape,
                                          out / f"audit_{sample}.png")
        log(f"      predicted {audit['class_name']} (label {audit['label']}); "
            f"{len(audit['fired_voters'])} voters fired, {len(audit['steps'])} nodes on the "
            f"trail, {len(audit['decisive_features'])} deciding inputs")
    else:
        log("[4/4] audit trail: skipped (no --sample)")

    result = {"netlist_hash": net.content_hash(), "nodes": net.n_nodes, "formula_kinds": kinds,
              "fields": summary, "circuits": circuit_json, "audit": audit,
              "seconds": round(time.perf_counter() - t0, 1)}
    _write_json(out / "explain.json", result)
    write_html(net, result, pictures, out / "explain.html", lines[:400])
    return result


def _img(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img src="data:image/png;base64,{data}" style="max-width:100%">'


def write_html(net: Netlist, result: dict, pictures: dict, path: Path, formula_lines) -> None:
    """One self-contained page (pictures embedded) for a person to open."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(str(net.class_names[c['class']]))}</td><td>{c['nodes']}</td>"
        f"<td>{c['edges']}</td><td>{c['receptive_field']}</td>"
        f"<td>{100 * c['one_vs_rest']:.2f}% / {100 * c['full_one_vs_rest']:.2f}%</td>"
        f"<td>{100 * c['accuracy']:.2f}% / {100 * c['full_accuracy']:.2f}%</td>"
        f"<td>{100 * c['test_accuracy']:.2f}%</td></tr>" for c in result["circuits"])
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>lutmesh explain</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd}pre{font-size:11px;"
        "max-height:400px;overflow:auto;background:#f6f6f6}</style></head><body>",
        f"<h1>lutmesh explain: {e(str(net.meta.get('dataset', '?')))}, {net.n_nodes} nodes</h1>",
        f"<p>netlist {result['netlist_hash'][:16]}; node kinds: "
        + ", ".join(f"{v} {e(k)}" for k, v in sorted(result["formula_kinds"].items())) + "</p>",
        "<h2>Class circuits</h2><p>Smallest node sets (others mean-ablated) that keep each "
        "class's one-vs-rest and overall accuracy within the tolerance on training data.</p>",
        "<table><tr><th>class</th><th>nodes</th><th>edges</th><th>receptive field</th>"
        "<th>one-vs-rest (circuit / full)</th><th>accuracy (circuit / full)</th>"
        f"<th>test accuracy</th></tr>{rows}</table>",
    ]
    for key in sorted(k for k in pictures if k.startswith("circuit_")):
        parts.append(_img(pictures[key]))
    parts += ["<h2>Activations</h2>", _img(pictures["activation"]),
              "<h2>Receptive fields</h2>", _img(pictures["fields"])]
    if "audit" in pictures and result["audit"]:
        a = result["audit"]
        steps = "\n".join(f"{s['node']} = {s['value']}: {s['formula']}" for s in a["steps"][:60])
        parts += [f"<h2>Audit: test sample {a['sample']}</h2>", _img(pictures["audit"]),
                  f"<p>predicted {e(a['class_name'])}, label {a['label']}; scores "
                  f"{a['scores']}; deciding inputs: {e(', '.join(a['decisive_feature_names']))}</p>",
                  f"<pre>{e(steps)}</pre>"]
    parts += ["<h2>Node formulas</h2>", f"<pre>{e(chr(10).join(formula_lines))}</pre>",
              "</body></html>"]
    atomic_write_text(path, "\n".join(parts))
