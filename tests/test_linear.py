"""The probe's torch logistic regression (for a GPU) agrees with scikit-learn's on the CPU."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from analysis.models.linear import TorchLogisticRegression


def blobs(seed: int = 0, n: int = 600, dim: int = 32, classes=("broken", "discolored", "pure", "silkcut")):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 0.6, (len(classes), dim))
    labels = rng.choice(np.asarray(classes), n, p=[0.4, 0.3, 0.2, 0.1])
    features = centres[np.searchsorted(np.asarray(classes), labels)] + rng.normal(0, 1, (n, dim))
    return StandardScaler().fit_transform(features).astype(np.float32), labels


@pytest.mark.parametrize("C", [1e-3, 0.1, 10.0])
def test_same_probabilities_as_scikit_learn(C):
    features, labels = blobs()
    reference = LogisticRegression(C=C, max_iter=1000, tol=1e-8).fit(features, labels)
    ours = TorchLogisticRegression(C=C, max_iter=1000, tol=1e-7, device="cpu").fit(features, labels)
    assert list(ours.classes_) == list(reference.classes_)
    assert np.abs(ours.predict_proba(features) - reference.predict_proba(features)).max() < 2e-3
    assert np.mean(ours.predict(features) == reference.predict(features)) > 0.99


def test_warm_start_continues_from_the_last_fit_and_a_single_class_is_certain():
    features, labels = blobs(seed=1)
    model = TorchLogisticRegression(C=0.01, warm_start=True, device="cpu").fit(features, labels)
    weak = model.set_params(C=1.0).fit(features, labels)
    cold = TorchLogisticRegression(C=1.0, max_iter=1000, tol=1e-7, device="cpu").fit(features, labels)
    assert np.abs(weak.predict_proba(features) - cold.predict_proba(features)).max() < 5e-3
    alone = TorchLogisticRegression(device="cpu").fit(features[:5], np.array(["pure"] * 5))
    assert alone.predict(features[:3]).tolist() == ["pure"] * 3
    assert alone.predict_proba(features[:3]).tolist() == [[1.0]] * 3


def test_probe_fits_with_torch_where_asked_and_scikit_learn_by_default():
    from sklearn.linear_model import LogisticRegression as Reference

    from analysis.stages import probe

    assert isinstance(probe.make_probe(0.1)[-1], Reference)
    assert isinstance(probe.make_probe(0.1, device="cuda")[-1], TorchLogisticRegression)
    features, labels = blobs(seed=2, n=400)
    folds = np.arange(len(labels)) % 4
    by_torch = [probe._FoldPath(features, labels, folds == 0, 0, "cpu")]
    by_torch[0].model = TorchLogisticRegression(warm_start=True, device="cpu")  # the cuda path, run on the CPU
    by_sklearn = probe._FoldPath(features, labels, folds == 0, 0)
    for c in probe.C_GRID[:6]:
        assert abs(by_torch[0].score(c) - by_sklearn.score(c)) <= 0.02
