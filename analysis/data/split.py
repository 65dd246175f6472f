"""The one evaluation split per dataset: grouped, stratified, deterministic.

Rows sharing a ``seed_id`` stay together, and so do byte-identical images, so no kernel photo
and no copy of one can be on both sides. Every approach reuses this split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data.csvlayout import GIVEN_SPLIT as GIVEN  # the CSV's split column (train/eval)
from analysis.core.options import held_out_folds, used_eval_fraction  # noqa: F401  (split.used_eval_fraction)

TRAIN, EVAL, KAGGLE_TEST = "train", "eval", "kaggle_test"
# manifest ``split.method``: CornLens held out one grouped fold, or the CSV's split column decided
GROUPED_FOLD, CSV_COLUMN = "grouped_fold", "csv_split_column"


def uses_given_split(images: pd.DataFrame) -> bool:
    """True when every labelled image has a given side (a CSV with a ``split`` column): then that
    column is the split and ``eval_fraction`` is not used."""
    labelled = images[images["source"] == "train"] if "source" in images.columns else images
    return GIVEN in labelled.columns and len(labelled) > 0 and bool(labelled[GIVEN].notna().all())


def method_text(split: dict) -> str:
    """How the held-out part was chosen, from the manifest's ``split`` (Home, the report and its
    reproduction block): ``chosen by the CSV's split column: 25.0% of the labelled images; …``.
    The share is counted from ``counts`` where they are recorded."""
    counts = split.get("counts") or {}
    labelled = counts.get(TRAIN, 0) + counts.get(EVAL, 0)
    share = counts.get(EVAL, 0) / labelled if labelled else split.get("eval_fraction")
    share_text = f"{share:.1%} of the labelled images" if isinstance(share, (int, float)) else "share not recorded"
    if split.get("method") == CSV_COLUMN:
        return f"chosen by the CSV's split column: {share_text}; --eval-fraction not used"
    if split.get("method") is None:  # bundles of older CornLens versions
        return f"{share_text} held out (how they were chosen is not recorded)"
    return f"one grouped, stratified fold: {share_text}"


def group_ids(frame: pd.DataFrame, keys: tuple[str, ...] = ("seed_id", "content_hash")) -> np.ndarray:
    """Connected components of rows linked by equal values in any of ``keys``.

    Returns:
        ndarray of shape (n_rows,): a group number per row.
    """
    n_rows = len(frame)
    sources, targets = [np.arange(n_rows)], [np.arange(n_rows)]
    for key in keys:
        codes = pd.factorize(frame[key])[0]
        order = np.argsort(codes, kind="stable")
        same = codes[order][1:] == codes[order][:-1]
        sources.append(order[:-1][same])
        targets.append(order[1:][same])
    rows, cols = np.concatenate(sources), np.concatenate(targets)
    from scipy.sparse import coo_matrix  # here: the dashboard imports this module, and scipy costs it ~1 s
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_rows, n_rows))
    return connected_components(graph, directed=False)[1]


def interval_groups(rows: pd.DataFrame) -> np.ndarray | None:
    """The group of each of ``rows`` (images.parquet rows) for the bootstrap intervals: the split's
    ``group`` column, else the groups of ``seed_id`` and ``content_hash`` (bundles written before the
    column), else None (every image alone)."""
    if "group" in rows.columns and not rows["group"].isna().any():
        return rows["group"].to_numpy()
    keys = tuple(key for key in ("seed_id", "content_hash") if key in rows.columns)
    return group_ids(rows, keys) if keys and len(rows) else None


def _grouped_folds(labels: np.ndarray, groups: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Fold number per row from a stratified, grouped k-fold (k reduced when groups are few).

    The groups are shuffled here, not by ``StratifiedGroupKFold(shuffle=True)``: before
    scikit-learn 1.8 its shuffle moved the class counts but not the group each count belongs to,
    so the folds were not stratified (scikit-learn PR #32540). Renumbering the groups in the order
    of the permutation 1.8 draws and splitting without shuffle gives the split of 1.8 and later
    with every scikit-learn version pyproject.toml allows."""
    unique_groups, group_index = np.unique(groups, return_inverse=True)
    n_folds = max(2, min(n_folds, len(unique_groups)))
    permutation = np.arange(len(unique_groups))
    np.random.RandomState(seed).shuffle(permutation)  # the draw of StratifiedGroupKFold(random_state=seed)
    shuffled = np.empty_like(permutation)
    shuffled[permutation] = np.arange(len(permutation))  # group permutation[j] is split j-th
    folds = np.full(len(labels), -1, dtype=np.int64)
    from sklearn.model_selection import StratifiedGroupKFold  # here: scikit-learn costs the dashboard ~1 s

    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=False)
    for fold, (_, held_out) in enumerate(
            splitter.split(np.zeros(len(labels)), labels, shuffled[group_index.reshape(-1)])):
        folds[held_out] = fold
    return folds


def assign_split(images: pd.DataFrame, eval_fraction: float = 0.2, n_folds: int = 5,
                 seed: int = 0) -> pd.DataFrame:
    """Add ``split`` (train / eval / kaggle_test), ``fold`` and ``group`` columns.

    Args:
        images: one row per image with ``seed_id``, ``content_hash``, ``label``, ``source``.
        eval_fraction: share of labelled images held out for evaluation; the share used is
            :func:`used_eval_fraction` (1/round(1/f)).
        n_folds: cross-validation folds inside ``train`` (``fold`` is -1 outside ``train``).
        seed: the same seed gives the same split.
    """
    folds = held_out_folds(eval_fraction)
    result = images.copy()
    result["split"] = KAGGLE_TEST
    result["fold"] = -1
    result["group"] = -1
    labelled = np.flatnonzero((result["source"] == "train").to_numpy())
    frame = result.iloc[labelled]
    groups = group_ids(frame)
    labels = frame["label"].to_numpy()
    eval_folds = _grouped_folds(labels, groups, folds, seed)
    is_eval = eval_folds == 0
    if uses_given_split(frame):  # the CSV layout's own split
        is_eval = (frame[GIVEN] == EVAL).to_numpy()
    train_rows = labelled[~is_eval]
    result.loc[result.index[labelled], "group"] = groups
    result.loc[result.index[labelled], "split"] = np.where(is_eval, EVAL, TRAIN)
    result.loc[result.index[train_rows], "fold"] = _grouped_folds(
        labels[~is_eval], groups[~is_eval], n_folds, seed + 1)
    return result.drop(columns=GIVEN, errors="ignore")
