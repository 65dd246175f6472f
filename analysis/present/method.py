"""How the numbers are made: the few sentences a report prints under that heading, read from the
bundle (its split, its groups, the headline rule, the verdict's multiplicity line). Plain text:
callers escape it."""

from __future__ import annotations

import pandas as pd

from analysis.core.records import headline_approach
from analysis.data import split
from analysis.ladder import verdict
from analysis.stats import bootstrap


def group_count(images: pd.DataFrame) -> tuple[int, int]:
    """The held-out images and the groups they form (:func:`analysis.data.split.interval_groups`)."""
    held_out = images[images["split"] == split.EVAL]
    groups = split.interval_groups(held_out)
    return len(held_out), (len(set(groups.tolist())) if groups is not None else len(held_out))


def how_numbers_are_made(manifest: dict, images: pd.DataFrame, verdict_found: dict | None = None) -> list[str]:
    """Five sentences: the split, choices on the training part, the bootstrap by group, the
    headline rule and the multiplicity rule."""
    n_eval, n_groups = group_count(images)
    _, rule = headline_approach(manifest.get("approaches", []))
    grouped = (f"the {n_eval} held-out images form {n_groups} groups" if n_groups < n_eval else
               f"each of the {n_eval} held-out images is its own group here")
    if any("accuracy_ci_groups" not in record.get("metrics", {}) for record in manifest.get("approaches", [])):
        grouped += ("; but this bundle's accuracy intervals were written before CornLens resampled by group, so they "
                    "treat every image as independent evidence (run again with --force to redo them)")
    family = bootstrap.simultaneous_level(0.95, 4)
    multiplicity = (verdict_found or {}).get("multiplicity") or (
        f"\"Clearly\" in the verdict means its interval leaves out 0; its rows (and a ladder's steps) are a family "
        f"with simultaneous intervals ({verdict.level_text(family)} each for 4 rows, Bonferroni), so the chance that "
        "any of them says \"clearly\" wrongly stays under 5%.")
    return [
        f"Split: {split.method_text(manifest.get('split', {}))}. Groups (a seed_id, byte-identical copies, a CSV's "
        "group) never straddle it.",
        "Choices on the training part: every prompt set, C, k, wording, blend weight and epoch is chosen on the "
        "training images (cross-validation folds or a validation fold inside them); the held-out images are scored "
        "once, and a held-out winner is shown only as an oracle.",
        f"Bootstrap by group: every interval resamples whole groups of images (1,000 resamples for an accuracy, "
        f"{verdict.N_RESAMPLES:,} for a paired difference); {grouped}.",
        f"The headline rule: \"best\" is {rule}.",
        f"The multiplicity rule: {multiplicity}",
    ]
