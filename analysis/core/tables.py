"""Tables the dashboard and the report show, shaped from bundle data (no I/O, no UI).

Every function takes plain bundle data (the manifest, its tables, diagnostics dicts) and returns a
pandas DataFrame or a small value, so the dashboard pages and the HTML report show the same
numbers from the same code.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, NamedTuple

import numpy as np
import pandas as pd

from analysis.core import records
from analysis.core import weights as weights_module
from analysis.core.records import model_key  # noqa: F401  (the views read a record's model key through tables)
from analysis.core import numbers

# The figures published for the Kaggle "It's Corn" competition (accuracy on the competition's own
# test set, public and private leaderboard). Reference only: not computed from any bundle.
PUBLISHED_LEADERBOARD = (
    {"approach": "zero-shot open_clip ViT-B-32-quickgelu", "kind": "zeroshot", "public": 0.167, "private": 0.184},
    {"approach": "zero-shot open_clip ViT-H-14", "kind": "zeroshot", "public": 0.286, "private": 0.280},
    {"approach": "linear probe on ViT-H-14 features", "kind": "probe", "public": 0.720, "private": 0.726},
    {"approach": "fine-tuned ConvNeXt", "kind": "finetune", "public": 0.761, "private": 0.754},
)
KIND_NAMES = {"baseline": "baseline", "zeroshot": "zero-shot", "zeroshot-calibrated": "calibrated zero-shot",
              "zeroshot-worded": "worded zero-shot", "zeroshot-worded-calibrated": "worded, calibrated zero-shot",
              "centroid": "class centroid", "knn": "kNN",
              "probe": "linear probe", "finetune": "fine-tuned"}
SOURCE_BUNDLE, SOURCE_REFERENCE, SOURCE_PUBLISHED = "this bundle", "reference rate", "published (Kaggle LB)"
RIGHT, WRONG = "✔", "✘"
GALLERY_SPLIT = "eval"  # the gallery, maps and comparisons score the held-out images only


# --- names ----------------------------------------------------------------------------------------

def approach_label(record: dict, short: bool = False) -> str:
    """A readable name: ``zero-shot ViT-B-32 (openai) · simple``, ``linear probe ViT-H-14 (…)``;
    ``short`` leaves out the weights and the prompt set (``zero-shot ViT-B-32``), for image cards.
    An approach shown beside another bundle's (:mod:`analysis.core.side_by_side`) ends with ``[bundle name]``."""
    name = records.bundle_of(record)
    if not name:
        return _approach_label(record, short)
    own = {**record, "id": record["id"].removesuffix(f" @ {name}")}  # the id in its own bundle
    return f"{_approach_label(own, short)} [{name}]"


def _approach_label(record: dict, short: bool) -> str:
    kind = record.get("kind", "")
    model, pretrained = record.get("model"), record.get("pretrained")
    if kind == "baseline":
        return f"baseline: {record.get('model_key') or record.get('model') or record['id']}"
    if not model:
        return record["id"]
    shown = [str(pretrained).rsplit("/", 1)[-1]] if pretrained else []
    if record.get("precision") not in (None, "fp32"):
        shown.append(record["precision"])  # bf16 etc.: the numbers came from a lower precision
    weights = f" ({', '.join(shown)})" if shown else ""
    said = KIND_NAMES.get(kind, kind)
    if kind == "finetune" and weights_module.weights_kind(record) != weights_module.PRETRAINED:
        said = "from-scratch"  # "fine-tuned" only for pretrained weights
    if short:
        return f"{said} {model}"
    label = f"{said} {model}{weights}"
    if kind == "zeroshot" and record.get("prompt_set"):
        label += f" · {record['prompt_set']}"
    return label


def approach_labels(approaches: Iterable[dict], short: bool = False) -> dict[str, str]:
    """approach id → readable label (see ``approach_label``), unique within ``approaches``: short
    labels that collide get their prompt set, then their weights; long ones fall back to the id."""
    records = list(approaches)
    labels = {record["id"]: approach_label(record, short) for record in records}
    if short:
        for extra in ("prompt_set", "pretrained"):
            taken = pd.Series(labels).duplicated(keep=False)
            for record in records:
                if taken[record["id"]] and record.get(extra):
                    labels[record["id"]] += f" · {str(record[extra]).rsplit('/', 1)[-1]}"
    taken = pd.Series(labels).duplicated(keep=False)
    return {approach_id: approach_id if taken[approach_id] else label for approach_id, label in labels.items()}


def representative_approaches(approaches: list[dict]) -> list[dict]:
    """The approaches worth a line on every image card: baselines like any other, no intermediate
    rungs of the ladder (they have their own places), and only the prompt set of each zero-shot
    model chosen on the training part (a bundle holds one approach per prompt set)."""
    best_zeroshot = records.best_per_model(approaches, records.ZEROSHOT).values()
    return [record for record in approaches
            if record.get("kind") not in ("zeroshot", *records.RUNG_KINDS) or any(record is best for best in best_zeroshot)]


def shots_text(value: float) -> str:
    """An effective-shots number as people say it: ``11.2``, ``4``."""
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"


def duration_text(seconds: float | None) -> str:
    """A wall time with its unit, rounded as people say it: ``< 0.1 s``, ``0.4 s``, ``12 s``, ``3.5 min``, ``1.2 h``;
    empty when unknown."""
    if seconds is None or pd.isna(seconds):
        return ""
    if seconds < 0.05:
        return "< 0.1 s"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def as_frame(value: Any) -> pd.DataFrame:
    """A diagnostics table as a DataFrame, whether stored as a list of rows or as columns of lists."""
    if value is None:
        return pd.DataFrame()
    if isinstance(value, dict):
        lengths = {len(v) for v in value.values() if isinstance(v, (list, tuple))}
        if len(lengths) == 1:  # columns of equal length; scalars (e.g. a draw count) repeat
            return pd.DataFrame(value)
        return pd.DataFrame([value])
    return pd.DataFrame(list(value))


# --- headline -------------------------------------------------------------------------------------

def headline_table(manifest: dict) -> pd.DataFrame:
    """One row per approach of the bundle, the reference rates, and the published leaderboard.

    Returns:
        DataFrame with ``approach``, ``kind``, ``source`` (this bundle | reference rate | published
        (Kaggle LB)), ``accuracy``, ``ci_low``, ``ci_high``, ``balanced_accuracy``, ``macro_f1``,
        ``ece``, ``wall_time_s``, ``public_lb``, ``private_lb``, ``id``. Bundle rows come first, in
        the ladder's order (baselines, zero-shot, its rungs, probe, fine-tuned) and within a kind the
        run chosen on the training part first — never ranked by held-out accuracy, which would make
        the top row a winner picked on the test images; accuracies are fractions (0..1).
    """
    rows = []
    labels = approach_labels(manifest.get("approaches", []))
    for record in manifest.get("approaches", []):
        scores = record.get("metrics", {})
        low, high = (scores.get("accuracy_ci") or [np.nan, np.nan])[:2]
        rows.append({"approach": labels[record["id"]], "kind": record.get("kind"), "source": SOURCE_BUNDLE,
                     "accuracy": scores.get("accuracy"), "ci_low": low, "ci_high": high,
                     "balanced_accuracy": scores.get("balanced_accuracy"), "macro_f1": scores.get("macro_f1"),
                     "ece": scores.get("ece"), "wall_time_s": record.get("wall_time_s"), "id": record["id"]})
    order = {record["id"]: (records.KINDS.index(record["kind"]) if record.get("kind") in records.KINDS else len(
        records.KINDS), -records.choice_accuracy(record)) for record in manifest.get("approaches", [])}
    rows.sort(key=lambda row: order[row["id"]])
    reference = manifest.get("reference", {})
    has_majority = any(record["id"] == "baseline:majority" for record in manifest.get("approaches", []))
    if "majority_rate" in reference and not has_majority:
        rows.append({"approach": f"always answer “{reference.get('majority_class')}” (majority class)",
                     "kind": "baseline", "source": SOURCE_REFERENCE, "accuracy": reference["majority_rate"],
                     "id": "reference:majority"})
    if "uniform_rate" in reference:
        rows.append({"approach": "uniform random guess", "kind": "baseline", "source": SOURCE_REFERENCE,
                     "accuracy": reference["uniform_rate"], "id": "reference:uniform"})
    for published in PUBLISHED_LEADERBOARD:
        rows.append({"approach": published["approach"], "kind": published["kind"], "source": SOURCE_PUBLISHED,
                     "public_lb": published["public"], "private_lb": published["private"],
                     "id": f"published:{published['approach']}"})
    columns = ["approach", "kind", "source", "accuracy", "ci_low", "ci_high", "balanced_accuracy", "macro_f1",
               "ece", "wall_time_s", "public_lb", "private_lb", "id"]
    return pd.DataFrame(rows).reindex(columns=columns)


def headline_display(table: pd.DataFrame) -> pd.DataFrame:
    """``headline_table`` as text for showing in a narrow table: accuracy with its interval in one
    column, blanks where a value does not apply, the published scores as ``public / private``."""
    def percent(value: Any) -> str:
        return numbers.percent(value, "")

    sources = {SOURCE_BUNDLE: SOURCE_BUNDLE, SOURCE_REFERENCE: "reference", SOURCE_PUBLISHED: "published"}
    return pd.DataFrame({
        "approach": table["approach"],
        "source": table["source"].map(sources),
        "accuracy (95% interval)": [
            f"{value:.1%} ({low * 100:.1f}–{high * 100:.1f}%)" if pd.notna(low) and pd.notna(high) else percent(value)
            for value, low, high in zip(table["accuracy"], table["ci_low"], table["ci_high"])],
        "balanced acc.": [percent(v) for v in table["balanced_accuracy"]],
        "macro-F1": [f"{v:.3f}" if pd.notna(v) else "" for v in table["macro_f1"]],
        "wall time": [duration_text(v) for v in table["wall_time_s"]],
        "published LB": [f"{a:.1%} / {b:.1%}" if pd.notna(a) else "" for a, b in zip(table["public_lb"], table["private_lb"])],
    })


# --- per-image table ------------------------------------------------------------------------------

def prompt_sets_of(projection: pd.DataFrame) -> list[str]:
    """The prompt sets whose class prompts a projection places (empty when it names none)."""
    if "prompt_set" not in projection.columns or "kind" not in projection.columns:
        return []
    return list(dict.fromkeys(projection.loc[projection["kind"] == "text", "prompt_set"].dropna()))


def prediction_column(approach_id: str) -> str:
    return f"pred:{approach_id}"


def confidence_column(approach_id: str) -> str:
    return f"conf:{approach_id}"


def true_probability_column(approach_id: str) -> str:
    return f"ptrue:{approach_id}"


def margin_column(approach_id: str) -> str:
    return f"margin:{approach_id}"


# The gallery's orders: (column of an approach, ascending). A confident mistake is the most telling,
# so it comes first by default; the others are the usual ways to find what a model is unsure of.
GALLERY_ORDERS = {"most confident": (confidence_column, False), "least confident": (confidence_column, True),
                  "smallest margin": (margin_column, True), "highest loss": (true_probability_column, True)}


def scored_images(images: pd.DataFrame, predictions: dict[str, pd.DataFrame], classes: list[str],
                  split: str = GALLERY_SPLIT) -> pd.DataFrame:
    """One row per labelled image of ``split`` with every approach's answer.

    Args:
        images: ``images.parquet``.
        predictions: approach id → its predictions table.
        classes: the ordered class names.

    Returns:
        DataFrame with the image columns (``image_id``, ``path``, ``label``, ``view``, …) and, per
        approach, ``pred:<id>`` (predicted class), ``conf:<id>`` (top-1 probability) and
        ``ptrue:<id>`` (probability given to the true class; the loss is its negative log) and
        ``margin:<id>`` (top-1 minus top-2 probability); NaN where an approach did not predict the
        image. Row order is the images table's.
    """
    rows = images[(images["split"] == split) & images["label"].notna()].reset_index(drop=True)
    columns: dict[str, Any] = {}
    position = {name: index for index, name in enumerate(classes)}
    true_index = rows["label"].map(position).to_numpy()
    for approach_id, frame in predictions.items():
        aligned = frame.set_index("image_id").reindex(rows["image_id"])
        proba = aligned[[f"prob_{name}" for name in classes]].to_numpy(dtype=float)
        columns[prediction_column(approach_id)] = aligned["pred_label"].to_numpy()
        top = np.where(np.isnan(proba), -1.0, proba).max(axis=1)
        columns[confidence_column(approach_id)] = np.where(top < 0, np.nan, top)  # NaN: not predicted
        valid = ~np.isnan(true_index.astype(float))
        true_proba = np.full(len(rows), np.nan)
        true_proba[valid] = proba[np.flatnonzero(valid), true_index[valid].astype(int)]
        columns[true_probability_column(approach_id)] = true_proba
        ranked = np.sort(np.where(np.isnan(proba), -np.inf, proba), axis=1)
        columns[margin_column(approach_id)] = (ranked[:, -1] - ranked[:, -2] if proba.shape[1] > 1 else ranked[:, -1]) \
            if len(proba) else np.zeros(0)
        columns[margin_column(approach_id)][top < 0] = np.nan
    return pd.concat([rows, pd.DataFrame(columns, index=rows.index)], axis=1)


def approach_ids(table: pd.DataFrame) -> list[str]:
    """The approach ids that ``scored_images`` put into ``table``."""
    return [column.removeprefix("pred:") for column in table.columns if column.startswith("pred:")]


def filter_gallery(table: pd.DataFrame, approach_id: str, true_classes: Iterable[str] | None = None,
                   predicted_classes: Iterable[str] | None = None, confidence: tuple[float, float] = (0.0, 1.0),
                   views: Iterable[str] | None = None, only_wrong: bool = True, order: str = "most confident",
                   search: str = "") -> pd.DataFrame:
    """The gallery's rows: images that ``approach_id`` got wrong (or all), narrowed by the filters,
    in one of :data:`GALLERY_ORDERS` (default: most confident first, a confident mistake being the
    most telling); ``search``: only images whose id or file name contains it (case ignored)."""
    prediction, conf = table[prediction_column(approach_id)], table[confidence_column(approach_id)]
    keep = prediction.notna() & conf.between(confidence[0], confidence[1], inclusive="both")
    if only_wrong:
        keep &= prediction != table["label"]
    if true_classes:
        keep &= table["label"].isin(list(true_classes))
    if predicted_classes:
        keep &= prediction.isin(list(predicted_classes))
    if views:
        keep &= table["view"].isin(list(views))
    if search.strip():
        wanted = search.strip().lower()
        names = table["image_id"].astype(str).str.lower().str.contains(wanted, regex=False)
        if "path" in table:
            names |= table["path"].astype(str).str.lower().str.contains(wanted, regex=False)
        keep &= names
    column, ascending = GALLERY_ORDERS[order]
    if column(approach_id) not in table:  # a table made before margins were kept
        column, ascending = confidence_column, order != "most confident"
    return table[keep].sort_values(column(approach_id), ascending=ascending, kind="stable")


def predictions_table(images: pd.DataFrame, predictions: pd.DataFrame) -> pd.DataFrame:
    """One approach's predictions as people download them: ``image_id``, ``path``, ``label``,
    ``split``, then the predictions' columns (answer, one probability per class), in image order."""
    known = [name for name in ("image_id", "path", "label", "split") if name in images]
    return images[known].merge(predictions, on="image_id", how="inner")


def class_scores(record: dict, classes: list[str]) -> pd.DataFrame:
    """One approach's precision, recall, F1 and support per class (``metrics.per_class``), in class
    order; empty when the record has none."""
    per_class = record.get("metrics", {}).get("per_class") or {}
    rows = [{"class": name, **{key: per_class[name].get(key) for key in ("precision", "recall", "f1", "support")}}
            for name in classes if isinstance(per_class.get(name), dict)]
    return pd.DataFrame(rows, columns=["class", "precision", "recall", "f1", "support"])


def disagreements(table: pd.DataFrame, first: str, second: str) -> pd.DataFrame:
    """Images where two approaches give different answers, with who was right.

    Returns:
        the rows of ``table`` where the predictions differ, with a ``right`` column (``first``,
        ``second`` or ``neither``), images where exactly one is right first.
    """
    a, b = table[prediction_column(first)], table[prediction_column(second)]
    differ = a.notna() & b.notna() & (a != b)
    rows = table[differ].copy()
    rows["right"] = np.select([rows[prediction_column(first)] == rows["label"],
                               rows[prediction_column(second)] == rows["label"]], [first, second], "neither")
    order = rows["right"].map({first: 0, second: 0, "neither": 1})
    return rows.assign(_order=order).sort_values(["_order", "right"], kind="stable").drop(columns="_order")


def page_of(frame: pd.DataFrame, page: int, per_page: int) -> pd.DataFrame:
    """Rows of the 1-based ``page`` (the last page when ``page`` is past the end)."""
    pages = max(1, -(-len(frame) // per_page))
    page = min(max(page, 1), pages)
    return frame.iloc[(page - 1) * per_page: page * per_page]


def page_count(n_rows: int, per_page: int) -> int:
    return max(1, -(-n_rows // per_page))


# --- comparisons ----------------------------------------------------------------------------------

def metrics_table(approaches: list[dict], short: bool = True) -> pd.DataFrame:
    """Long table for side-by-side bars: ``approach`` (short labels unless ``short`` is False),
    ``id``, ``kind``, ``metric``, ``value``, ``ci_low``/``ci_high`` (accuracy only)."""
    labels = approach_labels(approaches, short)
    rows = []
    for record in approaches:
        scores = record.get("metrics", {})
        low, high = (scores.get("accuracy_ci") or [np.nan, np.nan])[:2]
        for metric in ("accuracy", "balanced_accuracy", "macro_f1"):
            rows.append({"approach": labels[record["id"]], "id": record["id"], "kind": record.get("kind"),
                         "metric": metric.replace("_", " ").replace("macro f1", "macro-F1"),
                         "value": scores.get(metric),
                         "ci_low": low if metric == "accuracy" else np.nan,
                         "ci_high": high if metric == "accuracy" else np.nan})
    return pd.DataFrame(rows, columns=["approach", "id", "kind", "metric", "value", "ci_low", "ci_high"])


def per_class_table(approaches: list[dict], classes: list[str], short: bool = True) -> pd.DataFrame:
    """Long table: ``approach`` (short labels unless ``short`` is False), ``id``, ``class``,
    ``precision``, ``recall``, ``f1``, ``support``."""
    labels = approach_labels(approaches, short)
    rows = []
    for record in approaches:
        per_class = record.get("metrics", {}).get("per_class", {})
        for name in classes:
            scores = per_class.get(name, {})
            rows.append({"approach": labels[record["id"]], "id": record["id"], "class": name,
                         **{key: scores.get(key) for key in ("precision", "recall", "f1", "support")}})
    return pd.DataFrame(rows, columns=["approach", "id", "class", "precision", "recall", "f1", "support"])


def agreement_table(agreement: dict, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """The ``agreement`` diagnostics as a table: one row per pattern of right (✔) and wrong (✘),
    most frequent first, with ``images`` and ``share`` (fraction of the held-out images)."""
    ids = list(agreement.get("approaches", []))
    labels = labels or {}
    rows = []
    for pattern in agreement.get("patterns", []):
        correct = pattern.get("correct", {})
        row = {labels.get(approach_id, approach_id): RIGHT if correct.get(approach_id) else WRONG for approach_id in ids}
        row["images"] = int(pattern.get("count", 0))
        rows.append(row)
    table = pd.DataFrame(rows, columns=[labels.get(i, i) for i in ids] + ["images"])
    total = table["images"].sum()
    table["share"] = table["images"] / total if total else np.nan
    return table.sort_values("images", ascending=False, kind="stable").reset_index(drop=True)


CONFOUNDER_FEATURES = ("width", "height", "saturation", "brightness")  # per-class profiles drawn as boxes


def confounder_profiles(confounders: dict, classes: Iterable[str]) -> list[dict]:
    """The per-class profiles of the ``confounders`` diagnostics worth drawing, one per feature of
    ``CONFOUNDER_FEATURES`` that some class has, as the keyword arguments of
    ``figures.feature_by_class_figure``: ``per_class`` ({class: ``mean``, ``std``, ``quantiles``},
    in ``classes`` order), ``feature``, ``unit`` (short: ``0-255`` rather than the sentence stored)
    and ``quantile_levels``."""
    per_class, units = confounders.get("per_class") or {}, confounders.get("units") or {}
    levels = confounders.get("quantile_levels") or records.QUANTILE_LEVELS
    profiles = []
    for feature in CONFOUNDER_FEATURES:
        profile = {name: per_class[name][feature] for name in classes
                   if isinstance(per_class.get(name), dict) and isinstance(per_class[name].get(feature), dict)}
        unit = str(units.get(feature, ""))
        if profile:
            profiles.append({"per_class": profile, "feature": feature, "quantile_levels": levels,
                             "unit": unit if len(unit) < 12 else unit.split(",")[-1].strip()})
    return profiles


def label_problems_table(label_problems: dict | list | None) -> pd.DataFrame:
    """The ``label_problems`` diagnostics as a DataFrame (one row per duplicate group, conflicting
    label or image every approach gets wrong), whether stored as a list of rows or under a key."""
    if not label_problems:
        return pd.DataFrame()
    if isinstance(label_problems, list):
        rows = label_problems
    elif isinstance(label_problems.get("rows"), list):
        rows = label_problems["rows"]
    else:
        rows = next((value for value in label_problems.values() if isinstance(value, list)), [])
    frame = as_frame(rows)
    for column in frame.columns:  # lists (image ids, labels) read better joined
        if frame[column].map(lambda value: isinstance(value, (list, tuple))).any():
            frame[column] = frame[column].map(lambda value: ", ".join(map(str, value))
                                              if isinstance(value, (list, tuple)) else value)
    return frame


def confusion_cell_rows(table: pd.DataFrame, approach_id: str, true_class: str, predicted_class: str) -> pd.DataFrame:
    """Rows of one confusion-matrix cell of ``approach_id``."""
    return table[(table["label"] == true_class) & (table[prediction_column(approach_id)] == predicted_class)]


# One approach's answer for one image (``image_answers``).
Answer = NamedTuple("Answer", [("approach", str), ("prediction", str), ("probability", float),
                               ("true_probability", float), ("correct", bool)])


def image_answers(row: Mapping, approach_ids_: Iterable[str], labels: dict[str, str]) -> list[Answer]:
    """One image's answers in ``approach_ids_`` order (none: left out); ``row``: a ``scored_images`` row
    (a Series or a dict). Tuples, not a table: the gallery reads them for 48 cards a page."""
    answers = []
    for approach_id in approach_ids_:
        prediction = row.get(prediction_column(approach_id))
        if prediction is not None and not (isinstance(prediction, float) and np.isnan(prediction)):
            answers.append(Answer(labels.get(approach_id, approach_id), prediction, float(row[confidence_column(approach_id)]),
                                  float(row[true_probability_column(approach_id)]), prediction == row["label"]))
    return answers


def image_predictions(row: Mapping, approach_ids_: Iterable[str], labels: dict[str, str]) -> pd.DataFrame:
    """``image_answers`` as a table (columns: ``Answer``'s fields; ``probability``: of that answer)."""
    return pd.DataFrame(image_answers(row, approach_ids_, labels), columns=list(Answer._fields))


# --- maps -----------------------------------------------------------------------------------------

def projection_method(manifest: dict, name: str) -> str:
    """How the map ``name`` was made: ``umap``, or ``pca`` for a bundle of fewer than 10 images."""
    return str(manifest.get("projections", {}).get(name, {}).get("method") or "umap")


def map_points(projection: pd.DataFrame, images: pd.DataFrame, scored: pd.DataFrame,
               approach_id: str | None, prompt_set: str | None = None) -> pd.DataFrame:
    """The points of an embedding map with everything a colouring needs.

    Args:
        prompt_set: keep only this prompt set's class prompts (when the projection names a
            ``prompt_set`` per text point); None keeps them all.

    Returns:
        image points (``kind == "image"``) with ``image_id``, ``x``, ``y``, ``label`` (true class or
        "unlabelled"), ``view``, ``split``, ``prediction`` and ``correctness`` (correct | wrong |
        not scored) for ``approach_id``; text points (class prompts) follow with ``kind == "text"``
        and their ``prompt_set``.
    """
    kinds = projection["kind"] if "kind" in projection.columns else pd.Series("image", index=projection.index)
    points = projection[kinds == "image"][["image_id", "x", "y"]]
    points = points.merge(images[["image_id", "label", "view", "split"]], on="image_id", how="left")
    points["label"] = points["label"].fillna("unlabelled")
    points["kind"] = "image"
    if approach_id is not None and prediction_column(approach_id) in scored.columns:
        answers = scored[["image_id", prediction_column(approach_id)]].rename(
            columns={prediction_column(approach_id): "prediction"})
        points = points.merge(answers, on="image_id", how="left")
        points["correctness"] = np.where(points["prediction"].isna(), "not scored",
                                         np.where(points["prediction"] == points["label"], "correct", "wrong"))
        points["prediction"] = points["prediction"].fillna("not scored")
    else:
        points["prediction"] = "not scored"
        points["correctness"] = "not scored"
    text = projection[kinds == "text"]
    if prompt_set is not None and "prompt_set" in text.columns:
        text = text[text["prompt_set"] == prompt_set]
    if len(text):
        text_points = pd.DataFrame({"image_id": None, "x": text["x"].to_numpy(), "y": text["y"].to_numpy(),
                                    "label": text["label"].to_numpy(), "kind": "text",
                                    "prompt_set": text["prompt_set"].to_numpy() if "prompt_set" in text else None})
        points = pd.concat([points, text_points], ignore_index=True)
    return points
