"""Approach records: identity as data, and the one answer to "the best approach of each kind per model".

An approach is identified by its ``kind`` (baseline | zeroshot | probe | finetune), its ``model_key``
(``ViT-B-32:openai``, ``convnext_tiny``; for a baseline its name, ``majority``) and, for zero-shot, its
``prompt_set``. Every record stores these three fields; the ``id`` string is built from them here
and is never parsed back. The records' shapes are TypedDicts here too, checked when a bundle is read
(:func:`approach_problems`, :func:`check_shape`). This module is the ground floor: it imports nothing
from the project.
"""

import types
from typing import (Any, Iterable, Mapping, NotRequired, Required, TypedDict, Union, get_args, get_origin,
                    get_type_hints, is_typeddict)

# No `from __future__ import annotations` here: TypedDict needs real annotations to see `Required`.

# The ladder's rungs between zero-shot and the probe (analysis.ladder.rungs); each kind is its id's prefix.
RUNG_KINDS = ("zeroshot-calibrated", "zeroshot-worded", "zeroshot-worded-calibrated", "centroid", "knn")
KINDS = ("baseline", "zeroshot", *RUNG_KINDS, "probe", "finetune")
BASELINE, ZEROSHOT, PROBE, FINETUNE = "baseline", "zeroshot", "probe", "finetune"
# The quantiles of each per-class profile in the ``confounders`` diagnostics (stored there as
# ``quantile_levels``; readers fall back to these for a report that does not say).
QUANTILE_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)


def approach_id(kind: str, model_key: str, prompt_set: str | None = None) -> str:
    """The id of an approach: ``baseline:majority``, ``zeroshot:{model key}:{prompt set}``,
    ``probe:{model key}``, ``finetune:{timm name}``.

    Raises:
        ValueError: an unknown kind, or a zero-shot approach without a prompt set.
    """
    if kind not in KINDS:
        raise ValueError(f"approach kind must be one of {KINDS}, got {kind!r}")
    if kind == ZEROSHOT:
        if not prompt_set:
            raise ValueError(f"a zero-shot approach of {model_key!r} needs its prompt set")
        return f"{kind}:{model_key}:{prompt_set}"
    return f"{kind}:{model_key}"


BUNDLE_KEY = "bundle"  # approach record key: the other bundle an approach is shown from (analysis.core.side_by_side)


def bundle_of(record: Mapping) -> str | None:
    """The name of the other bundle an approach comes from (:mod:`analysis.core.side_by_side`); None for the
    shown bundle's own approaches."""
    return record.get(BUNDLE_KEY)


def model_key(record: Mapping) -> str | None:
    """The record's model key (None for a record written before records carried one)."""
    return record.get("model_key")


def choice_accuracy(record: Mapping) -> float:
    """What an approach is chosen by among its model's: its accuracy on the training part
    (``train_accuracy``; zero-shot predicts without labels, so choosing a prompt set by it is fair;
    else its :func:`training_estimate`), else — for records written without one — minus infinity,
    so that the first listed wins: the held-out accuracy never chooses."""
    value = record.get("train_accuracy")
    value = value if value is not None else record.get("train_estimate")
    return float(value) if value is not None else float("-inf")


# The kinds whose records carry an accuracy on training images they did not fit (:func:`training_estimate`).
ESTIMATED_KINDS = (ZEROSHOT, "knn", PROBE, FINETUNE)
HEADLINE_RULE = ("the highest accuracy on training images the approach did not fit — zero-shot's on the training "
                 "part (it fits nothing), kNN's and the linear probe's by grouped cross-validation, ConvNeXt's on its "
                 "validation fold at the epoch that fold kept — fixed before any held-out image was scored; each "
                 "is the best of its own sweep (prompt set, k, C, epoch), so each leans a little optimistic")
HEADLINE_FALLBACK_RULE = ("the most trained approach in the bundle (fine-tuned, else linear probe, else kNN, …), "
                          "since some records lack a training-part estimate; never the held-out score")


def training_estimate(record: Mapping) -> float | None:
    """An approach's accuracy on training images it did not fit (``train_estimate``: the probe's
    cross-validated accuracy at its C, ConvNeXt's validation accuracy at its epoch; for zero-shot its
    training accuracy, since it fits nothing, and for kNN its ``train_accuracy``, which is
    cross-validated); None for other kinds and for records written without one."""
    if record.get("train_estimate") is not None:
        return float(record["train_estimate"])
    if record.get("kind") in (ZEROSHOT, "knn") and record.get("train_accuracy") is not None:
        return float(record["train_accuracy"])
    return None


def headline_approach(approaches: Iterable[Mapping]) -> tuple[Mapping | None, str]:
    """The approach a headline names as best, and the rule that picked it (words for the page).

    The rule is fixed in advance and reads the training part only: of each kind of
    :data:`ESTIMATED_KINDS`, the run :func:`best_per_model` and :func:`choice_accuracy` choose;
    among those, the highest :func:`training_estimate` (a tie goes to the simpler approach). When a
    candidate lacks its estimate (a bundle written before records carried one), the ladder's order
    decides (:func:`default_approach`). The held-out accuracy never chooses.
    """
    records = list(approaches)
    candidates = [max(best_per_model(records, kind).values(), key=choice_accuracy)
                  for kind in ESTIMATED_KINDS if best_per_model(records, kind)]
    if candidates and all(training_estimate(record) is not None for record in candidates):
        return max(candidates, key=training_estimate), HEADLINE_RULE
    return default_approach(records), HEADLINE_FALLBACK_RULE


def best_per_model(approaches: Iterable[Mapping], kind: str) -> dict[str, Mapping]:
    """Model key → the approach of ``kind`` on that model chosen by :func:`choice_accuracy`.

    The one answer to "the zero-shot prompt set of each CLIP model" (and of any other kind): the
    one best on the training images, never the held-out winner; keys in the order the models first
    appear. The first of equally accurate approaches wins.
    """
    best: dict[str, Mapping] = {}
    for record in approaches:
        key = model_key(record)
        if record.get("kind") != kind or key is None:
            continue
        if key not in best or choice_accuracy(record) > choice_accuracy(best[key]):
            best[key] = record
    return best


def default_approach(approaches: Iterable[Mapping]) -> Mapping | None:
    """The approach a page shows first when none is picked: of the last kind in :data:`KINDS` present
    (the most trained: fine-tuned, else probe, …), the run chosen by :func:`best_per_model` (across
    models, by :func:`choice_accuracy`) — never the held-out winner; else (records without a model
    key) the first listed; None when there is none."""
    records = list(approaches)
    for kind in reversed(KINDS):
        if chosen := max(best_per_model(records, kind).values(), key=choice_accuracy, default=None):
            return chosen
    return records[0] if records else None


def of_model(approaches: Iterable[Mapping], kind: str, key: str) -> list[Mapping]:
    """The approaches of ``kind`` on the model ``key`` (e.g. one zero-shot approach per prompt set)."""
    return [record for record in approaches if record.get("kind") == kind and model_key(record) == key]


# --- typed records --------------------------------------------------------------------------------
# What readers may rely on. Keys are optional (older bundles lack some); a key that is present must
# have its shape. :func:`shape_problems` checks a value against these when a bundle is read.

class Metrics(TypedDict, total=False):
    n: int
    accuracy: Required[float]
    accuracy_ci: list[float]
    accuracy_ci_groups: int             # the groups of images the interval resampled (absent: written before groups)
    balanced_accuracy: float
    macro_f1: float
    per_class: dict[str, dict]
    confusion_matrix: list[list[int]]
    ece: float | None
    accuracy_by_view: dict[str, float]


class ApproachRecord(TypedDict, total=False):
    """One entry of the manifest's ``approaches`` (docs/bundle.md)."""

    id: Required[str]
    kind: Required[str]                 # one of KINDS
    model_key: str | None               # required for every kind but baseline
    prompt_set: str | None              # zero-shot only
    model: str | None
    pretrained: str | None
    weights: str | None                 # what the weights are: CLIP pretrained | checkpoint | random | synthetic-captions;
                                        # ConvNeXt imagenet | checkpoint | scratch
    params: dict
    metrics: Required[Metrics]
    predictions_file: Required[str]
    wall_time_s: float | None
    device: str | None
    precision: str | None               # the image model's number format (--precision), zeroshot/probe/finetune
    train_accuracy: float | None        # on the training part: what a run is chosen by among its model's
    train_estimate: float | None        # on training images it did not fit (CV, validation fold): the headline rule


class FileEntry(TypedDict, total=False):
    """An entry of the manifest's ``embeddings`` or ``projections``: the file, and what it holds."""

    file: Required[str]


class Manifest(TypedDict, total=False):
    """``manifest.json``, the keys every reader relies on (docs/bundle.md); each approach is checked
    on its own (:func:`approach_problems`)."""

    schema_version: Required[int]
    demo: bool
    classes: Required[list[str]]
    dataset: Required[dict]
    split: dict
    approaches: Required[list[dict]]
    embeddings: dict[str, FileEntry]
    projections: dict[str, FileEntry]
    features: dict
    runs: list[dict]


class PromptSetScore(TypedDict, total=False):
    name: Required[str]
    accuracy: Required[float]
    approach_id: str | None


class TemplateScore(TypedDict, total=False):
    template: Required[str]
    accuracy: Required[float]
    predicted: dict[str, int]           # class → held-out images this template answers so


class AutopsyDiagnostics(TypedDict, total=False):
    """``autopsy:{model key}``."""

    model_key: str
    best_prompt_set: str
    prompt_sets: list[PromptSetScore]
    templates: list[TemplateScore]
    true_distribution: dict[str, int]
    predicted_distribution: dict[str, dict[str, int]]
    modality_gap: dict
    text_similarity: list[list[float]]
    image_centroid_similarity: list[list[float]]
    margins: dict
    reliability: dict
    projection: str | None


class Attribution(TypedDict, total=False):
    """``attribution`` of ``ladder:{model key}`` (``analysis.ladder.attribution.attribute``): the keys
    the pages write into sentences."""

    gap: float | None
    min_share: float | None
    method: str
    text: str


class LadderDiagnostics(TypedDict, total=False):
    """``ladder:{model key}``."""

    attribution: Attribution | None


class SweepPoint(TypedDict, total=False):
    C: Required[float]
    cv_accuracy_mean: Required[float]


class KShotPoint(TypedDict, total=False):
    k: Required[int]
    mean: Required[float]


class KShotColumns(TypedDict, total=False):  # the k-shot curve stored as columns (older bundles)
    k: Required[list]
    mean: Required[list]


class BlendPoint(TypedDict, total=False):
    alpha: Required[float]
    accuracy: Required[float]


class ProbeDiagnostics(TypedDict, total=False):
    """``probe:{model key}``."""

    c_sweep: list[SweepPoint]
    best_C: float | None
    kshot: list[KShotPoint] | KShotColumns
    blend: list[BlendPoint]
    zeroshot_accuracy: float | None
    effective_shots: float | None


class EpochRow(TypedDict, total=False):
    epoch: Required[int]
    val_accuracy: float | None
    train_loss: float | None


class FinetuneDiagnostics(TypedDict, total=False):
    """``finetune:{timm name}``."""

    epochs: list[EpochRow]
    best_epoch: int | None
    weights: str


class Pattern(TypedDict, total=False):
    correct: Required[dict[str, bool]]
    count: Required[int]


class AgreementDiagnostics(TypedDict, total=False):
    approaches: list[str]
    patterns: list[Pattern]
    all_wrong: list[str]


class ConfounderDiagnostics(TypedDict, total=False):
    per_class: dict[str, Any]
    shortcut_accuracy: dict[str, float]
    quantile_levels: list[float]
    permutation_importance: list[dict]


class DataDiagnostics(TypedDict, total=False):
    problems: list[dict]
    duplicates: list[dict]


# Fixed diagnostics names → their type; an approach's diagnostics (named by its id) and a CLIP
# model's autopsy are typed through :func:`diagnostics_type`.
DIAGNOSTICS_TYPES: dict[str, type] = {"agreement": AgreementDiagnostics, "confounders": ConfounderDiagnostics,
                                      "data": DataDiagnostics}
APPROACH_DIAGNOSTICS: dict[str, type] = {PROBE: ProbeDiagnostics, FINETUNE: FinetuneDiagnostics}


LADDER_PREFIX = "ladder:"  # the ladder diagnostics of a CLIP model: ``ladder:{model key}``


def autopsy_name(key: str) -> str:
    """The name of the zero-shot autopsy diagnostics of the CLIP model ``key``."""
    return f"autopsy:{key}"


def diagnostics_type(name: str, approaches: Iterable[Mapping]) -> type | None:
    """The TypedDict of the diagnostics called ``name`` in a bundle with these approaches, or None."""
    if name in DIAGNOSTICS_TYPES:
        return DIAGNOSTICS_TYPES[name]
    if name.startswith(LADDER_PREFIX):
        return LadderDiagnostics
    for record in approaches:
        if record.get("id") == name:
            return APPROACH_DIAGNOSTICS.get(record.get("kind"))
        if record.get("kind") == ZEROSHOT and model_key(record) and name == autopsy_name(model_key(record)):
            return AutopsyDiagnostics
    return None


def shape_problem(value: Any, expected: Any, where: str) -> str | None:
    """Why ``value`` does not have the shape ``expected`` (a type hint of this module), or None."""
    origin, arguments = get_origin(expected), get_args(expected)
    if expected is Any:
        return None
    if origin in (Union, types.UnionType):
        found = [shape_problem(value, option, where) for option in arguments]
        return None if None in found else " or ".join(found)
    if expected is type(None):
        return None if value is None else f"{where}: expected null, found {_kind_of(value)}"
    if expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else f"{where}: expected a number, found {_kind_of(value)}"
    if expected in (int, str, bool):
        ok = isinstance(value, expected) and (expected is bool or not isinstance(value, bool))
        return None if ok else f"{where}: expected {expected.__name__}, found {_kind_of(value)}"
    if is_typeddict(expected):
        if not isinstance(value, dict):
            return f"{where}: expected a record with {_keys(expected)}, found {_kind_of(value)}"
        missing = sorted(key for key in expected.__required_keys__ if key not in value)
        if missing:
            return f"{where}: a record lacks {', '.join(map(repr, missing))} (expected {_keys(expected)})"
        hints = get_type_hints(expected)
        for key, hint in hints.items():
            if key in value and (problem := shape_problem(value[key], _strip(hint), f"{where}.{key}")):
                return problem
        return None
    container = origin or expected
    if container in (list, dict):
        if not isinstance(value, container):
            return f"{where}: expected a {'list' if container is list else 'mapping'}, found {_kind_of(value)}"
        if container is list and arguments and _checked_items(arguments[0]):  # rows of a table, names
            for index, row in enumerate(value):
                if problem := shape_problem(row, arguments[0], f"{where}[{index}]"):
                    return problem
        if container is dict and len(arguments) == 2 and _checked_items(arguments[1]):  # file entries
            for key, item in value.items():
                if problem := shape_problem(item, arguments[1], f"{where}[{key!r}]"):
                    return problem
        return None
    return None


def _checked_items(hint: Any) -> bool:
    """Whether the items of a list or mapping are checked one by one: records and text are (a class
    name must be text); numbers are not, so that older bundles' matrices of 3.0 or null still read."""
    return is_typeddict(hint) or hint is str


def check_shape(value: Any, expected: type, where: str) -> dict[str, str]:
    """Top-level key → problem, for the keys of ``value`` (a dict) that do not match ``expected``."""
    if not isinstance(value, dict):
        return {"": f"{where}: expected a JSON object, found {_kind_of(value)}"}
    hints = get_type_hints(expected)
    problems = {key: shape_problem(value[key], _strip(hints[key]), f"{where}: {key!r}") for key in hints if key in value}
    problems |= {key: f"{where}: {key!r} is missing" for key in expected.__required_keys__ if key not in value}
    return {key: problem for key, problem in problems.items() if problem}


def approach_problems(record: Any, where: str) -> list[str]:
    """Why a manifest approach entry is unusable (empty when it is fine)."""
    problems = list(check_shape(record, ApproachRecord, where).values())
    if not problems and record["kind"] not in KINDS:
        problems.append(f"{where}: kind {record['kind']!r} is not one of {', '.join(KINDS)}")
    if not problems and record["kind"] != BASELINE and not isinstance(record.get("model_key"), str):
        problems.append(f"{where}: a {record['kind']} approach needs its 'model_key'")
    return problems


def _strip(hint: Any) -> Any:
    """``Required[X]`` / ``NotRequired[X]`` → ``X``."""
    return get_args(hint)[0] if get_origin(hint) in (Required, NotRequired) else hint


def _keys(record_type: type) -> str:
    return ", ".join(repr(key) for key in sorted(record_type.__required_keys__)) or "any keys"


def _kind_of(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)
