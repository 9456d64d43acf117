"""The reference a reader holds a class circuit against: per-class L1 logistic regression.

One-vs-rest, on the same split and the same raw features (standardised on the
training split), ``class_weight="balanced"`` so that its decision at 0 aims at the
same balanced accuracy the detector bound keeps; liblinear, fixed ``C``, so the
result is deterministic. Its non-zero weights are the pixels it reads.
"""

import warnings

import numpy as np

from .circuits import balanced_accuracy

__all__ = ["l1_logistic", "L1_C"]

# digits, mean of 10 classes: C 0.02 -> 12.8 pixels at 94.1% balanced test accuracy,
# 0.05 -> 19.1 at 96.5%, 0.1 -> 22.7 at 97.3%: 0.1 is the accuracy a reader expects
L1_C = 0.1


def _l1_options() -> dict:
    """scikit-learn 1.8 deprecated ``penalty`` for ``l1_ratio``; older ones need it."""
    import sklearn

    major, minor = (int(v) for v in sklearn.__version__.split(".")[:2])
    return {"l1_ratio": 1.0} if (major, minor) >= (1, 8) else {"penalty": "l1"}


def l1_logistic(X_train, y_train, X_test, y_test, classes, C: float = L1_C) -> dict:
    """Per class: ``weights`` (per feature), ``field``, balanced accuracy train/test."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    X_train, X_test = np.asarray(X_train, float), np.asarray(X_test, float)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1.0
    a, b = (X_train - mean) / std, (X_test - mean) / std
    out = {}
    for c in classes:
        model = LogisticRegression(solver="liblinear", C=C, **_l1_options(),
                                   class_weight="balanced", max_iter=1000, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(a, np.asarray(y_train) == c)
        w = model.coef_[0]
        out[c] = {"weights": w, "field": int((w != 0).sum()),
                  "balanced_accuracy_train": balanced_accuracy(model.predict(a),
                                                               np.asarray(y_train) == c),
                  "balanced_accuracy_test": balanced_accuracy(model.predict(b),
                                                              np.asarray(y_test) == c)}
    return out
