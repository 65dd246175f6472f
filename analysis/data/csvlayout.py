"""The CSV layout: ``--data labels.csv`` with one row per image.

Columns: ``path`` (relative to the CSV's folder) and ``label``, required; ``split`` (``train`` or
``test``: the user's own held-out part, which then replaces CornLens's split), ``group`` (images
that must stay on one side of the split, e.g. photos of one kernel) and ``view``, optional. Rows
are checked with the problems the other layouts name (``bad_path``, ``empty_label``,
``unknown_label``, ``duplicate_row``) plus ``bad_split`` for a split value other than train/test.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.core.escape import listed
from analysis.core.confinement import safe_relative_path
from analysis.data.dataset_files import UNKNOWN_VIEW, DatasetError, read_csv
from analysis.data.problems import Problem

REQUIRED_COLUMNS = ("path", "label")
OPTIONAL_COLUMNS = ("split", "group", "view")
SPLIT_VALUES = {"train": "train", "test": "eval"}  # CSV value → images.parquet split
GIVEN_SPLIT = "given_split"                         # rows column that split.assign_split honours
ROW_COLUMNS = ["seed_id", "view", "path", "label", "source", "row", GIVEN_SPLIT]


def _row_problem(row: dict, where: str, classes: list[str] | None, has_split: bool) -> Problem | None:
    """The reason one row cannot be used, or None."""
    relative = row["path"]
    if not row["label"]:
        return Problem("empty_label", where, f"column 'label' is empty for {relative}")
    if classes is not None and row["label"] not in classes:
        return Problem("unknown_label", where, f"label {row['label']!r} of {relative} is not one of the "
                       f"expected classes {listed(classes)}")
    if has_split and row["split"] not in SPLIT_VALUES:
        return Problem("bad_split", where, f"column 'split' value {row['split']!r} of {relative} is not "
                       "'train' or 'test'")
    return None


def check_given_split(rows: pd.DataFrame, csv_path: Path) -> None:
    """Refuse a given split with an empty side, or one that puts a group on both sides (its held-out
    score would be inflated)."""
    for side, name in (("train", "train"), ("eval", "test")):
        if not (rows[GIVEN_SPLIT] == side).any():
            raise DatasetError(f"{csv_path}: column 'split' has no usable '{name}' row; give both train and test "
                               "rows, or drop the column to let CornLens split.")
    sides = rows.groupby("seed_id")[GIVEN_SPLIT].nunique()
    crossing = sides[sides > 1].index.tolist()
    if crossing:
        example = rows[rows["seed_id"] == crossing[0]]["row"].tolist()[:4]
        raise DatasetError(f"{csv_path}: column 'group' value {crossing[0]!r} has images in both train and test "
                           f"({', '.join(example)}), and {len(crossing) - 1} other group(s) too; a group must stay on "
                           "one side of the split. Fix the 'split' column, or drop it to let CornLens split by group.")


def csv_rows(csv_path: Path, classes: list[str] | None) -> tuple[pd.DataFrame, list[Problem]]:
    """Rows of a CSV dataset, with per-row problems (the problem rows are left out).

    Returns:
        DataFrame with ``seed_id`` (the ``group``, else the path: an image alone), ``view``, ``path``,
        ``label``, ``source`` (``train``: every row is labelled), ``row`` (``labels.csv row 7``) and
        ``given_split`` (``train``/``eval`` from the ``split`` column, None without one).
    """
    frame = read_csv(csv_path, REQUIRED_COLUMNS)
    has_split = "split" in frame.columns
    problems: list[Problem] = []
    records, seen = [], set()
    for index, raw in enumerate(frame.to_dict("records")):
        where = f"{csv_path.name} row {index + 2}"  # +2: the header, and people count rows from 1
        relative = safe_relative_path(raw["path"])
        if relative is None:
            problems.append(Problem("bad_path", where, f"column 'path' value {raw['path']!r} is empty, absolute "
                                    "or outside the CSV's folder"))
            continue
        row = {"path": relative, "label": raw["label"].strip(),
               "split": str(raw.get("split", "")).strip().lower()}
        problem = _row_problem(row, where, classes, has_split)
        if problem is None and relative in seen:
            problem = Problem("duplicate_row", where, f"image {relative} is listed more than once; only the "
                              "first row is used")
        if problem is not None:
            problems.append(problem)
            continue
        seen.add(relative)
        records.append({"seed_id": str(raw.get("group", "")).strip() or relative,
                        "view": str(raw.get("view", "")).strip() or UNKNOWN_VIEW, "path": relative,
                        "label": row["label"], "source": "train", "row": where,
                        GIVEN_SPLIT: SPLIT_VALUES[row["split"]] if has_split else None})
    rows = pd.DataFrame.from_records(records, columns=ROW_COLUMNS)
    if has_split:
        check_given_split(rows, csv_path)
    return rows, problems
