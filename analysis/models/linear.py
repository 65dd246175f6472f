"""Multinomial logistic regression in torch: scikit-learn's objective, fitted where torch runs (a GPU).

The linear probe's C sweep, k-shot curve and out-of-fold fits are dozens of full-batch L-BFGS fits
on ~14,000 × 1,024 features; on a CUDA device they take seconds instead of minutes. The CPU path
stays scikit-learn's ``LogisticRegression`` (lbfgs); this estimator minimises the same function,

    mean cross-entropy + ||W||² / (2 · C · n_rows)   (the intercept is not penalised),

which is scikit-learn's ``C · Σ loss + ||W||² / 2`` divided by ``C · n_rows``, so the optimum (and so
the probabilities) agree up to the solvers' tolerances (``tests/test_linear.py`` checks on CPU).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin


class TorchLogisticRegression(ClassifierMixin, BaseEstimator):
    """scikit-learn-compatible multinomial logistic regression fitted with torch's L-BFGS.

    Args:
        C: inverse regularisation strength, as in scikit-learn.
        max_iter: L-BFGS iterations at most (scikit-learn's default, 100).
        tol: stop once the largest gradient entry is below it (scikit-learn's ``tol``).
        warm_start: start each ``fit`` from the previous solution (the C sweep's path).
        device: where the fit runs (``cuda``, ``cpu``).
        random_state: unused (the objective is convex and the start is zero); kept for the interface.
    """

    def __init__(self, C: float = 1.0, max_iter: int = 100, tol: float = 1e-4, warm_start: bool = False,
                 device: str = "cuda", random_state: int | None = None):
        self.C, self.max_iter, self.tol, self.warm_start = C, max_iter, tol, warm_start
        self.device, self.random_state = device, random_state

    def fit(self, features: np.ndarray, labels: np.ndarray) -> "TorchLogisticRegression":
        """Fit on ndarray of shape (n_rows, dim) and their class labels."""
        self.classes_, targets = np.unique(np.asarray(labels), return_inverse=True)
        device = torch.device(self.device)
        rows = torch.as_tensor(np.asarray(features, dtype=np.float32), device=device)
        targets = torch.as_tensor(targets, device=device)
        n_classes = len(self.classes_)
        start = getattr(self, "_weights", None) if self.warm_start else None
        if start is None or start.shape != (rows.shape[1] + 1, n_classes):
            start = torch.zeros(rows.shape[1] + 1, n_classes, device=device)
        weights = start.clone().to(device).requires_grad_(True)
        penalty = 1.0 / (2.0 * float(self.C) * len(rows))
        optimiser = torch.optim.LBFGS([weights], lr=1, max_iter=self.max_iter, tolerance_grad=self.tol,
                                      tolerance_change=1e-9, history_size=10, line_search_fn="strong_wolfe")

        def loss() -> torch.Tensor:
            optimiser.zero_grad()
            logits = rows @ weights[:-1] + weights[-1]
            value = torch.nn.functional.cross_entropy(logits, targets) + penalty * (weights[:-1] ** 2).sum()
            value.backward()
            return value

        if n_classes > 1:
            optimiser.step(loss)
        self._weights = weights.detach()
        self.coef_ = self._weights[:-1].T.cpu().numpy()
        self.intercept_ = self._weights[-1].cpu().numpy()
        return self

    def decision_function(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(features, dtype=np.float32) @ self.coef_.T + self.intercept_

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities, ndarray of shape (n_rows, n_classes) in ``classes_`` order."""
        if len(self.classes_) == 1:
            return np.ones((len(features), 1))
        logits = self.decision_function(features)
        logits = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(features), axis=1)]
