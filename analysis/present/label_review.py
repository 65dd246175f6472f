"""The ``label_problems`` diagnostics as groups of images to judge side by side, and as one CSV row
per image for relabelling (no I/O, no UI)."""

from __future__ import annotations

import pandas as pd

from analysis.core.escape import spreadsheet_csv

PROBLEM_NAMES = {"conflicting_labels": "identical images, conflicting labels",
                 "train_test_leak": "identical images on both sides (leak)",
                 "duplicate": "identical images, same label",
                 "all_wrong": "every approach that looks at the image disagrees with the label"}
UNLABELLED = "unlabelled"


def problem_groups(label_problems: dict | list | None, images: pd.DataFrame) -> list[dict]:
    """One dict per problem: ``number`` (1-based), ``problem``, ``name`` (readable), ``detail`` and
    ``images`` (a DataFrame of ``image_id``, ``label``, ``split``, ``view``, ``path``, read from
    ``images`` so that every member shows its own label and split).

    Reads rows stored as a list or under ``rows``, with ``problem`` or (older bundles) ``kind`` and
    ``detail`` or ``message``; image ids that are not in the bundle are left out.
    """
    if not label_problems:
        return []
    rows = label_problems if isinstance(label_problems, list) else label_problems.get("rows") or []
    by_id = images.set_index("image_id")
    columns = [name for name in ("label", "split", "view", "path") if name in by_id.columns]
    groups = []
    for row in rows:
        ids = [image_id for image_id in row.get("image_ids", []) if image_id in by_id.index]
        if not ids:
            continue
        members = by_id.loc[ids, columns].reset_index()
        members["label"] = members["label"].where(members["label"].notna(), UNLABELLED)
        problem = str(row.get("problem") or row.get("kind") or "problem")
        groups.append({"number": len(groups) + 1, "problem": problem, "name": PROBLEM_NAMES.get(problem, problem),
                       "detail": str(row.get("detail") or row.get("message") or ""), "images": members})
    return groups


def problem_counts(groups: list[dict]) -> dict[str, int]:
    """problem → number of groups, in ``PROBLEM_NAMES`` order, then any other problem names."""
    counts: dict[str, int] = {}
    for group in groups:
        counts[group["problem"]] = counts.get(group["problem"], 0) + 1
    order = [name for name in PROBLEM_NAMES if name in counts] + [name for name in counts if name not in PROBLEM_NAMES]
    return {name: counts[name] for name in order}


def problems_csv(groups: list[dict]) -> str:
    """:func:`problems_csv_table` as CSV text, safe to open in a spreadsheet (no cell starts a formula)."""
    return spreadsheet_csv(problems_csv_table(groups))


def problems_csv_table(groups: list[dict]) -> pd.DataFrame:
    """One row per image of every group: ``group``, ``problem``, ``image_id``, ``path``, ``label``,
    ``split``, ``view``, ``detail`` — ready for a relabelling pass."""
    frames = [group["images"].assign(group=group["number"], problem=group["problem"], detail=group["detail"])
              for group in groups]
    columns = ["group", "problem", "image_id", "path", "label", "split", "view", "detail"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True).reindex(columns=columns)
