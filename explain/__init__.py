"""Reading a trained circuit: node formulas, receptive fields, class circuits, audits."""
