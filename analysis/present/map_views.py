"""What the embedding map page shows around the map: which approach colours it, what a box selected,
and the caption of each colouring (no I/O, no UI)."""

from __future__ import annotations

import weakref
from functools import cached_property
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from analysis.present import explain
from analysis.core import escape, records, tables

UNLABELLED = "unlabelled"
PANEL_MAP_POINTS = 20_000  # image points drawn on a map inside another page or the report (not the Embedding map page)
SPLIT_NAMES = {"eval": "held-out", "train": "training", "kaggle_test": "competition test"}
# The Embedding map's colourings (the choice shown → the column coloured by), the first one shown first.
COLOURINGS = {"true label": "label", "prediction": "prediction", "correctness": "correctness", "view": "view"}
COLOURING_CAPTIONS = {
    "label": "Colour: the true class of each image (grey: unlabelled competition test images).",
    "prediction": "Colour: the class that {approach} answers; held-out images only, the others are grey "
                  "(not scored).",
    "correctness": "Colour: whether {approach} is right (blue) or wrong (orange) on each held-out image; training "
                   "and unlabelled images are light grey (not scored).",
    "view": "Colour: the view the photo was taken from (top or bottom of the kernel), not its class.",
}


def approaches_for(projection: str, approaches: list[dict]) -> list[dict]:
    """Approaches built on this projection's model first, then the others."""
    own = [record for record in approaches if tables.model_key(record) == projection]
    return own + [record for record in approaches if record not in own]


def best_approach_for(projection: str, approaches: list[dict]) -> str | None:
    """The approach shown first on a map: built on the projection's model (a ConvNeXt map: that
    network; a CLIP map: its probe, else its zero-shot run chosen on the training images), else
    of all (:func:`analysis.core.records.default_approach`); None when there is none."""
    own = [record for record in approaches if tables.model_key(record) == projection] or approaches
    chosen = records.default_approach(own)
    return chosen["id"] if chosen else None


def approach_prompt_set(approaches: list[dict], approach_id: str | None) -> str | None:
    """The prompt set of the chosen approach, or of the zero-shot run chosen on the training images."""
    by_id = {record["id"]: record for record in approaches}
    if approach_id in by_id and by_id[approach_id].get("prompt_set"):
        return by_id[approach_id]["prompt_set"]
    zeroshot = max(records.best_per_model(approaches, records.ZEROSHOT).values(), key=records.choice_accuracy,
                   default=None)
    return zeroshot.get("prompt_set") if zeroshot else None


def first_prompt_set(approaches: list[dict], approach_id: str | None, prompt_sets: list[str]) -> str | None:
    """The class prompts a map shows first: the chosen approach's prompt set (:func:`approach_prompt_set`)
    when the map has it, else its first; None when the map has one prompt set or none (nothing to choose)."""
    if len(prompt_sets) <= 1:
        return None
    chosen = approach_prompt_set(approaches, approach_id)
    return chosen if chosen in prompt_sets else prompt_sets[0]


def colouring_caption(colour_by: str, approach_label: str | None) -> str:
    """The sentence under the map that says what its colours mean for this colouring."""
    return COLOURING_CAPTIONS[colour_by].format(approach=f"**{escape.markdown_text(approach_label)}**" if approach_label else "the approach")


def selection_breakdown(images: pd.DataFrame, ids: list[str], classes: list[str]) -> pd.DataFrame:
    """How many selected images of each class lie in each split.

    Returns:
        DataFrame with a ``class`` column (``classes`` order, then ``unlabelled``) and one count
        column per split present (held-out first), plus ``all``; classes with no image are left out.
    """
    rows = np.sort(positions(images, ids))
    label = images["label"].to_numpy(dtype=object, na_value=UNLABELLED)[rows]
    split = images["split"].to_numpy(dtype=object, na_value="no split")[rows]
    pairs = pd.DataFrame({"label": label, "split": split}).value_counts()  # one pass, no row per image kept
    counts = pairs.unstack("split", fill_value=0).rename(columns=lambda name: SPLIT_NAMES.get(name, name))
    order = [name for name in SPLIT_NAMES.values() if name in counts.columns]
    counts = counts[order + [column for column in counts.columns if column not in order]]
    rows = [name for name in [*classes, UNLABELLED] if name in counts.index]
    counts = counts.reindex(rows)
    counts["all"] = counts.sum(axis=1)
    counts.columns.name = None
    return counts.rename_axis("class").reset_index()


def selected_rows(images: pd.DataFrame, scored: pd.DataFrame, ids: list[str], include_training: bool) -> pd.DataFrame:
    """The rows for the cards of a map selection, in ``ids`` order.

    Held-out images carry every approach's answer (``tables.scored_images``); with
    ``include_training`` the training and unlabelled images follow, with their label (or
    ``unlabelled``) and split but no answers (approaches are scored on the held-out images only).
    """
    rows = scored.iloc[positions(scored, ids)].reset_index(drop=True)
    if include_training:
        chosen = np.sort(positions(images, ids))
        not_scored = id_index(scored).get_indexer(images["image_id"].iloc[chosen]) < 0
        others = images.iloc[chosen[not_scored]].copy()
        others["label"] = others["label"].where(others["label"].notna(), UNLABELLED)
        rows = pd.concat([rows, others], ignore_index=True)
    return rows


def positions(table: pd.DataFrame, ids: Sequence[str]) -> np.ndarray:
    """Row positions in ``table`` (unique ``image_id`` column) of ``ids``, in ``ids`` order, each once;
    ids not in the table are left out. A hash lookup in the table's id index (:func:`id_index`):
    pandas' ``isin`` with 100,000 ids on an Arrow string column takes about a second."""
    found = id_index(table).get_indexer(pd.unique(np.asarray(ids if isinstance(ids, np.ndarray) else list(ids),
                                                             dtype=object)))
    return found[found >= 0]


def id_index(table: pd.DataFrame) -> pd.Index:
    """``pd.Index`` of ``table["image_id"]``, with its hash table, built once while ``table`` lives: the
    dashboard's tables are cached and read-only, and a selection looks rows up in them on every rerun
    (building the index of 100,000 ids took ~0.1 s each time)."""
    kept = _id_indexes.get(id(table))
    if kept is not None and kept[0]() is table:
        return kept[1]
    index = pd.Index(table["image_id"].to_numpy(dtype=object))
    key = id(table)
    _id_indexes[key] = (weakref.ref(table, lambda _, key=key: _id_indexes.pop(key, None)), index)
    return index


_id_indexes: dict[int, tuple[weakref.ref, pd.Index]] = {}


def selected_ids(selected: list[dict], points: pd.DataFrame) -> list[str]:
    """Image ids of the clicked points of a selection on the map of ``points`` (``map_canvas_data``),
    whose ``customdata`` is the row among the image points (class-prompt stars carry none)."""
    ids = points.loc[points["kind"] == "image", "image_id"].to_numpy(dtype=object)
    rows = [point.get("customdata") for point in selected]
    rows = [row[0] if isinstance(row, list) and row else row for row in rows]
    return [str(ids[row]) for row in rows if isinstance(row, int) and not isinstance(row, bool) and 0 <= row < len(ids)]


LASSO_VERTICES = 5_000  # a lasso's path is cut to this many vertices (the map adds one every few pixels)


def clean_selection(value: object) -> dict:
    """A selection as the browser sent it, reduced to what :func:`selection_ids` reads: ``points``
    (dicts with an int ``customdata``), ``box`` and ``lasso`` (dicts of finite ``x`` and ``y``
    lists); anything else (not a dict, a null, a string, NaN) is left out, never raised on."""
    value = value if isinstance(value, dict) else {}

    def numbers(values: object) -> list[float] | None:
        if not isinstance(values, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                   for v in values):
            return None
        return [float(v) for v in values] if np.isfinite(values).all() else None

    shapes = {}
    for name, least in (("box", 2), ("lasso", 3)):
        kept = []
        for shape in value.get(name) or [] if isinstance(value.get(name), list) else []:
            x, y = (numbers(shape.get(axis)) if isinstance(shape, dict) else None for axis in ("x", "y"))
            if x is not None and y is not None and len(x) == len(y) >= least:
                step = max(1, -(-len(x) // LASSO_VERTICES))
                kept.append({"x": x[::step], "y": y[::step]})
        shapes[name] = kept
    points = value.get("points") if isinstance(value.get("points"), list) else []
    shapes["points"] = [{"customdata": point["customdata"]} for point in points if isinstance(point, dict)
                        and isinstance(point.get("customdata"), int) and not isinstance(point.get("customdata"), bool)]
    return shapes


def selection_ids(selection: dict, points: pd.DataFrame) -> list[str]:
    """Image ids a chart selection (Streamlit's ``selection``: ``points``, ``box``, ``lasso``) names.

    Boxes and lassos are read from their geometry over every image point of ``points``, in map
    order (their union when there are several): the map's canvas (``dashboard.map_canvas``) sends
    only the shape, never 100,000 point dicts. Without a box or lasso: the clicked points
    (:func:`selected_ids`).
    """
    boxes, lassos = selection.get("box") or [], selection.get("lasso") or []
    if not boxes and not lassos:
        return selected_ids(selection.get("points") or [], points)
    images = points[points["kind"] == "image"]
    x, y = images["x"].to_numpy(dtype=np.float64), images["y"].to_numpy(dtype=np.float64)
    inside = np.zeros(len(images), dtype=bool)
    for box in boxes:
        if len(box.get("x") or []) >= 2 and len(box.get("y") or []) >= 2:
            (x0, x1), (y0, y1) = sorted(box["x"][:2]), sorted(box["y"][:2])
            inside |= in_box(x, y, x0, x1, y0, y1)
    for lasso in lassos:
        inside |= in_polygon(x, y, lasso.get("x") or [], lasso.get("y") or [])
    return images["image_id"].to_numpy(dtype=object)[inside].astype(str).tolist()


def in_box(x: np.ndarray, y: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """bool ndarray: which points (``x``, ``y``) lie in the box, edges included."""
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def in_polygon(x: np.ndarray, y: np.ndarray, xs: Sequence[float], ys: Sequence[float]) -> np.ndarray:
    """bool ndarray: which points (``x``, ``y``) lie inside the closed polygon ``xs``, ``ys`` (a lasso;
    even-odd rule, as plotly's own lasso): a horizontal ray from each point crosses its edges an odd
    number of times. Only the points within the polygon's bounding box are tested."""
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    inside = np.zeros(len(x), dtype=bool)
    if len(xs) < 3 or len(xs) != len(ys):
        return inside
    near = np.flatnonzero(in_box(x, y, xs.min(), xs.max(), ys.min(), ys.max()))
    px, py = x[near], y[near]
    odd = np.zeros(len(near), dtype=bool)
    for x0, y0, x1, y1 in zip(xs, ys, np.roll(xs, -1), np.roll(ys, -1)):
        if y0 == y1:
            continue  # a horizontal edge is never crossed by a horizontal ray
        crosses = (y0 > py) != (y1 > py)
        odd ^= crosses & (px < x0 + (py - y0) * (x1 - x0) / (y1 - y0))
    inside[near] = odd
    return inside


def box_text(boxes: list[dict]) -> str:
    """A box selection as ``x0,x1,y0,y1`` (the URL form); empty for a lasso or no selection."""
    if not boxes or "x" not in boxes[0] or "y" not in boxes[0]:
        return ""
    (x0, x1), (y0, y1) = sorted(boxes[0]["x"][:2]), sorted(boxes[0]["y"][:2])
    return ",".join(f"{value:.6g}" for value in (x0, x1, y0, y1))


def box_shape(box: str) -> dict | None:
    """The map's outline of a ``box_text`` box: ``{"box": [x0, x1, y0, y1]}``; None when ``box``
    cannot be read."""
    try:
        x0, x1, y0, y1 = (float(part) for part in box.split(","))
    except ValueError:
        return None
    return {"box": [min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)]} if all(
        np.isfinite([x0, x1, y0, y1])) else None


def ids_in_box(points: pd.DataFrame, box: str) -> list[str]:
    """Image ids of the map points inside a ``box_text`` box; empty when ``box`` cannot be read."""
    try:
        x0, x1, y0, y1 = (float(part) for part in box.split(","))
    except ValueError:
        return []
    return selection_ids({"box": [{"x": [x0, x1], "y": [y0, y1]}]}, points)


def thinned(points: pd.DataFrame, limit: int | None = None, seed: int = 0) -> pd.DataFrame:
    """``tables.map_points`` with at most about ``limit`` (default :data:`PANEL_MAP_POINTS`) image
    points: the same random share of every true class, so each cloud keeps its place, shape and
    relative density (a map a few hundred pixels high shows no more); text points are all kept, the
    order is unchanged."""
    limit = PANEL_MAP_POINTS if limit is None else limit
    images = points["kind"] == "image"
    if images.sum() <= limit:
        return points
    kept = points[images].groupby("label", group_keys=False).sample(frac=limit / images.sum(), random_state=seed)
    return points[~images | points.index.isin(kept.index)]


def thinning_note(points: pd.DataFrame, total: int) -> str:
    """The sentence that says a map draws a sample (``thinned``); empty when it draws every image."""
    shown = int((points["kind"] == "image").sum())
    if shown >= total:
        return ""
    return (f" This map draws {shown:,} of the {total:,} images, the same random {shown / total:.1%} of each class: "
            "more points would only draw the same clouds denser. The dashboard's Embedding map page shows every image.")


def panel_map(points: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int], str]:
    """A map as a panel draws it: the ``thinned`` points, the images per true class before thinning
    (for the legend) and the reading of every image (``explain.read_projection``) with the
    thinning note, so that the numbers said are those of all images, as on the Embedding map page."""
    drawn = thinned(points)
    images = points[points["kind"] == "image"]
    counts = images["label"].fillna("unknown").astype(str).value_counts().to_dict()
    return drawn, counts, explain.read_projection(points) + thinning_note(drawn, len(images))


class PanelMap:
    """A page's map as its panel draws it (``panel_map``), read the first time a panel asks for it:
    a page whose map sits in a closed section reads no map points at all. ``available`` says
    whether the bundle has the map, without reading it. Shared read-only by every session."""

    def __init__(self, read: Callable[[], pd.DataFrame] | None = None):
        self._read = read

    @property
    def available(self) -> bool:
        return self._read is not None

    @cached_property
    def _made(self) -> tuple[pd.DataFrame | None, dict[str, int] | None, str]:
        return panel_map(self._read()) if self._read is not None else (None, None, "")

    @property
    def points(self) -> pd.DataFrame | None:
        """The thinned points; None without a map."""
        return self._made[0]

    @property
    def counts(self) -> dict[str, int] | None:
        """Images per true class before thinning; None without a map."""
        return self._made[1]

    @property
    def reading(self) -> str:
        """The reading of every image with the thinning note; empty without a map."""
        return self._made[2]

