"""Each node's truth table as a minimised sum of products over named inputs.

sympy's ``SOPform`` (Quine–McCluskey) does the minimising. Input patterns a node
never sees on the training data are passed as don't-cares, which is what makes the
formulas short; ``exact=True`` gives formulas equal to the table on every pattern.
"""

from dataclasses import dataclass

import numpy as np
from sympy import And, Not, Or, Symbol
from sympy.logic import SOPform
from sympy.logic.boolalg import BooleanFalse, BooleanTrue

from ..netlist import LutLayer

__all__ = ["NodeFormula", "node_formula", "layer_patterns", "evaluate_terms"]


@dataclass
class NodeFormula:
    """``terms``: a list of products, each a list of (input slot, polarity) literals.

    A node is 1 when any product holds; no terms is constant 0, one empty term is
    constant 1. Slots index the node's K inputs (``LutLayer.inputs`` columns).
    """

    terms: list[list[tuple[int, int]]]
    text: str
    kind: str  # "constant", "wire", "inverter" or "logic"
    care_patterns: int  # input patterns seen on the data (of 2**used)
    used: list[int]

    def to_json(self) -> dict:
        return {"formula": self.text, "kind": self.kind,
                "terms": [[[int(s), int(p)] for s, p in t] for t in self.terms],
                "used_inputs": self.used, "seen_patterns": self.care_patterns}


def _literal_text(name: str, polarity: int) -> str:
    if polarity:
        return name
    if " ≥ " in name:  # a negated threshold bit reads better as a comparison
        return name.replace(" ≥ ", " < ")
    return f"¬{name}"


def _render(terms, names) -> str:
    if not terms:
        return "0"
    if terms == [[]]:
        return "1"
    parts = []
    for t in terms:
        body = " ∧ ".join(_literal_text(names[s], p) for s, p in t)
        parts.append(f"({body})" if len(terms) > 1 and len(t) > 1 else body)
    return " ∨ ".join(parts)


def _terms_of(expr, slot_of: dict) -> list[list[tuple[int, int]]]:
    if isinstance(expr, BooleanFalse):
        return []
    if isinstance(expr, BooleanTrue):
        return [[]]
    products = expr.args if isinstance(expr, Or) else (expr,)
    terms = []
    for prod in products:
        lits = prod.args if isinstance(prod, And) else (prod,)
        term = []
        for lit in lits:
            if isinstance(lit, Not):
                term.append((slot_of[lit.args[0]], 0))
            else:
                term.append((slot_of[lit], 1))
        terms.append(sorted(term))
    return sorted(terms, key=lambda t: (len(t), t))


def node_formula(table: np.ndarray, inputs: np.ndarray, names: list[str],
                 seen: np.ndarray | None = None) -> NodeFormula:
    """The formula of one node.

    ``table`` has 2**K entries (bit k of the index is input slot k); ``inputs`` are
    the slot's signal indices (-1: unused, reads 0); ``names`` name the signals;
    ``seen`` (2**K bools) marks the patterns seen on data, None for exact formulas.
    """
    table = np.asarray(table)
    used = [int(s) for s in np.flatnonzero(np.asarray(inputs) >= 0)]
    symbols = [Symbol(f"x{s}") for s in used]
    slot_of = {sym: s for sym, s in zip(symbols, used)}
    ones, dont = [], []
    n_seen = 0
    for p in range(1 << len(used)):
        index = sum(((p >> j) & 1) << s for j, s in enumerate(used))
        bits = [(p >> j) & 1 for j in range(len(used))]
        if seen is not None and not seen[index]:
            dont.append(bits)
            continue
        n_seen += 1
        if table[index]:
            ones.append(bits)
    if not ones:
        terms = []
    elif len(ones) == n_seen:  # 1 on every pattern that matters
        terms = [[]]
    else:
        terms = _terms_of(SOPform(symbols, ones, dont), slot_of)
    signal_names = {s: names[int(inputs[s])] for s in used}
    if not terms or terms == [[]]:
        kind = "constant"
    elif len(terms) == 1 and len(terms[0]) == 1:
        kind = "wire" if terms[0][0][1] else "inverter"
    else:
        kind = "logic"
    return NodeFormula(terms, _render(terms, signal_names), kind, n_seen, used)


def layer_patterns(layer: LutLayer, prev: np.ndarray) -> np.ndarray:
    """Which of each node's 2**K input patterns occur in ``prev`` (S, n_prev): (N, 2**K)."""
    index = layer.patterns(prev)
    seen = np.zeros((layer.n_nodes, 1 << layer.k), dtype=bool)
    rows = np.broadcast_to(np.arange(layer.n_nodes), index.shape)
    seen[rows.ravel(), index.ravel()] = True
    return seen


def evaluate_terms(terms, values: np.ndarray) -> np.ndarray:
    """A formula on input slot values (S, K) -> (S,) uint8."""
    values = np.asarray(values)
    out = np.zeros(values.shape[0], dtype=bool)
    for t in terms:
        hit = np.ones(values.shape[0], dtype=bool)
        for s, p in t:
            hit &= values[:, s] == p
        out |= hit
    return out.astype(np.uint8)
