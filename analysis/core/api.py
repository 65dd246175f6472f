"""The public API for notebooks and scripts: ``from analysis import open_bundle``.

Kept small and stable (tests pin it, README shows it)::

    from analysis import open_bundle
    results = open_bundle("results/corn")
    results.manifest["approaches"][0]["metrics"]["accuracy"]
    results.images()                 # one row per image: image_id, path, label, split, fold, ...
    results.predictions(approach_id) # image_id, pred_label, prob_<class>..., margin
    results.embeddings(name)         # ndarray (n_images, dim), rows in images() order
    results.scored_images()          # held-out images with every approach's answer

Everything read is validated; a missing, damaged or too-new bundle raises
:class:`~analysis.core.bundle.BundleError` with a message that names the file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.core import bundle, tables
from analysis.core.bundle import BundleError

__all__ = ["BundleError", "Results", "open_bundle"]


class Results(bundle.Bundle):
    """An opened bundle: ``manifest`` (dict), ``classes``, ``approaches``, ``images()``,
    ``predictions(approach_id)``, ``embedding_names()``, ``embeddings(name)``, ``projection(name)``,
    ``diagnostics(name)`` and :meth:`scored_images`."""

    def scored_images(self) -> pd.DataFrame:
        """The held-out images with each approach's answer.

        Returns:
            DataFrame with the image columns and, per approach id, ``pred:<id>`` (predicted class),
            ``conf:<id>`` (top-1 probability) and ``ptrue:<id>`` (probability of the true class).
        """
        predictions = {record["id"]: self.predictions(record["id"]) for record in self.approaches}
        return tables.scored_images(self.images(), predictions, self.classes)


def open_bundle(path: str | Path) -> Results:
    """Open and validate the results bundle at ``path`` (a folder written by ``python -m analysis run``)."""
    opened = bundle.open_bundle(path)
    return Results(opened.path, opened.manifest)
