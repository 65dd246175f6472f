"""Zero-shot CLIP: prompt sets as data, a classifier with ``predict_proba``, and the autopsy.

The classifier is the standard recipe of ``open_clip.build_zero_shot_classifier``: each text is
embedded and L2-normalised, the texts of a class are averaged and the mean renormalised; logits are
the model's logit scale times the cosine between image and class embedding. A prompt set may also
give whole-sentence ``descriptions`` of a class; they join that class's average as further texts.

Prompt sets: ``classname`` (the bare word), ``a-photo-of``, open_clip's ``openai-imagenet`` (80)
and ``simple-imagenet`` (7) template lists, the corn-domain sets in ``analysis/stages/prompts/*.json`` and
user files given with ``--prompts``, all of the form::

    {"name": "mine", "templates": ["a photo of a {}."],
     "classnames": {"silkcut": "kernel with a thin silk cut"},
     "descriptions": {"broken": ["a corn kernel with a piece missing"]}}

Zero-shot uses no training labels: the labels of the held-out images only score it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES, SIMPLE_IMAGENET_TEMPLATES
from scipy.special import softmax

from analysis.models import clip_weights, devices, embed, projection
from analysis.stats import knn, metrics
from analysis.core.escape import listed
from analysis.core import records
from analysis.data import engine, split
from analysis.stages.context import RunContext, Stage, data_inputs

log = logging.getLogger(__name__)

PROMPTS_DIR = Path(__file__).with_name("prompts")
PROMPT_FILE_KEYS = {"name", "templates", "classnames", "descriptions", "about"}


class PromptError(ValueError):
    """A prompt-set file is unusable; the message names the file and the key."""


# --- prompt sets ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PromptSet:
    """Templates (``str.format`` strings with one ``{}``), optional class wordings and descriptions."""

    name: str
    templates: tuple[str, ...]
    classnames: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = "built-in"

    def wording(self, class_name: str) -> str:
        """How the class is put into words: the set's wording, else the name with ``_`` as spaces."""
        return self.classnames.get(class_name, class_name.replace("_", " "))

    def texts(self, class_name: str) -> list[str]:
        """Every text of one class: each template filled with its wording, then its descriptions."""
        wording = self.wording(class_name)
        return [template.format(wording) for template in self.templates] + list(self.descriptions.get(class_name, ()))

    def params(self, classes: Sequence[str]) -> dict:
        """The exact wording used, for the manifest: ``templates``, ``classnames``, ``descriptions``."""
        return {"templates": list(self.templates),
                "classnames": {name: self.wording(name) for name in classes},
                "descriptions": {name: list(self.descriptions[name]) for name in classes if name in self.descriptions},
                "source": self.source}


def _template_strings(templates: Sequence) -> tuple[str, ...]:
    """open_clip keeps its templates as lambdas; called with "{}" they give the format strings."""
    return tuple(template("{}") if callable(template) else template for template in templates)


BUILT_IN = (
    PromptSet("classname", ("{}",)),
    PromptSet("a-photo-of", ("a photo of a {}.",)),
    PromptSet("openai-imagenet", _template_strings(OPENAI_IMAGENET_TEMPLATES), source="open_clip"),
    PromptSet("simple-imagenet", _template_strings(SIMPLE_IMAGENET_TEMPLATES), source="open_clip"),
)


def read_json_file(path: Path, error: type[Exception], what: str) -> Any:
    """A user's JSON file (prompt set, wordings); ``error`` names the file when it is missing or not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as missing:
        raise error(f"{path}: {what} not found.") from missing
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as unreadable:
        raise error(f"{path}: cannot be read as JSON ({unreadable}).") from unreadable


def read_prompt_set(path: str | Path) -> PromptSet:
    """A prompt set from a JSON file (format in the module docstring).

    Raises:
        PromptError: the file is missing, not JSON, or a key has the wrong shape; the message
            names the file and the key.
    """
    path = Path(path)
    raw = read_json_file(path, PromptError, "prompt file")
    if not isinstance(raw, dict):
        raise PromptError(f"{path}: expected a JSON object with \"name\" and \"templates\".")
    unknown = sorted(set(raw) - PROMPT_FILE_KEYS)
    if unknown:
        raise PromptError(f"{path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(PROMPT_FILE_KEYS))}.")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PromptError(f"{path}: \"name\" must be a non-empty string; it becomes the approach's prompt set.")
    templates = raw.get("templates")
    if not isinstance(templates, list) or not templates or not all(isinstance(t, str) for t in templates):
        raise PromptError(f"{path}: \"templates\" must be a non-empty list of strings such as \"a photo of a {{}}.\".")
    for template in templates:
        try:
            filled = template.format("\0")
        except (IndexError, KeyError, ValueError) as error:
            raise PromptError(f"{path}: template {template!r} is not a format string with one {{}} ({error}).") from error
        if filled.count("\0") != 1:
            raise PromptError(f"{path}: template {template!r} must contain exactly one {{}} for the class wording.")
    classnames = raw.get("classnames", {})
    if not isinstance(classnames, dict) or not all(isinstance(v, str) and v.strip() for v in classnames.values()):
        raise PromptError(f"{path}: \"classnames\" must map class names to non-empty strings.")
    descriptions = raw.get("descriptions", {})
    if not isinstance(descriptions, dict) or not all(
            isinstance(v, list) and all(isinstance(s, str) and s.strip() for s in v) for v in descriptions.values()):
        raise PromptError(f"{path}: \"descriptions\" must map class names to lists of sentences.")
    return PromptSet(name.strip(), tuple(templates), dict(classnames),
                     {key: tuple(value) for key, value in descriptions.items() if value}, str(path))


def prompt_sets(files: Sequence[str | Path] = ()) -> list[PromptSet]:
    """The built-in sets, the packaged corn-domain sets, then the user's files, in that order.

    Raises:
        PromptError: a file is unusable, or two sets share a name.
    """
    sets = list(BUILT_IN) + [read_prompt_set(path) for path in sorted(PROMPTS_DIR.glob("*.json"))]
    sets += [read_prompt_set(path) for path in files]
    seen: dict[str, str] = {}
    for prompt_set in sets:
        if prompt_set.name in seen:
            raise PromptError(f"{prompt_set.source}: prompt set name {prompt_set.name!r} is already used by "
                              f"{seen[prompt_set.name]}; give the file another \"name\".")
        seen[prompt_set.name] = prompt_set.source
    return sets


def check_classes(prompt_set: PromptSet, classes: Sequence[str]) -> None:
    """Warn about wordings or descriptions for classes the dataset does not have (likely typos)."""
    unknown = sorted((set(prompt_set.classnames) | set(prompt_set.descriptions)) - set(classes))
    if unknown:
        log.warning("%s: prompt set %r words class(es) %s that the dataset does not have (classes: %s); ignored",
                    prompt_set.source, prompt_set.name, listed(unknown), listed(classes))


# --- the classifier -------------------------------------------------------------------------------

@dataclass
class ZeroShotClassifier:
    """Zero-shot CLIP with the estimator interface of the probe.

    ``class_embeddings``: ndarray of shape (n_classes, dim), unit rows (open_clip's classifier
    weights, transposed); ``logit_scale``: the model's exp(logit_scale).
    """

    classes: list[str]
    class_embeddings: np.ndarray
    logit_scale: float
    prompt_set: str = ""

    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.classes)

    def decision_function(self, image_embeddings: np.ndarray) -> np.ndarray:
        """Logits, ndarray of shape (n_images, n_classes): scale × cosine(image, class)."""
        return self.logit_scale * embed.normalize(image_embeddings) @ self.class_embeddings.T

    def predict_proba(self, image_embeddings: np.ndarray) -> np.ndarray:
        """Softmax of the logits, ndarray of shape (n_images, n_classes), ``classes`` order."""
        return softmax(self.decision_function(image_embeddings).astype(np.float64), axis=1)

    def predict(self, image_embeddings: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(self.decision_function(image_embeddings), axis=1)]


@dataclass
class PromptEmbeddings:
    """The embedded texts of one prompt set: per class, one unit row per text (templates first)."""

    prompt_set: PromptSet
    classes: list[str]
    texts: list[np.ndarray]  # per class: ndarray (n_texts_of_class, dim)
    logit_scale: float

    def classifier(self) -> ZeroShotClassifier:
        """Average of each class's texts, renormalised (``open_clip.build_zero_shot_classifier``)."""
        weights = np.stack([embed.normalize(rows.mean(axis=0)) for rows in self.texts])
        return ZeroShotClassifier(list(self.classes), weights, self.logit_scale, self.prompt_set.name)

    def template_classifiers(self) -> dict[str, ZeroShotClassifier]:
        """One classifier per single template (descriptions left out): the spread of the templates."""
        return {template: ZeroShotClassifier(list(self.classes), np.stack([rows[index] for rows in self.texts]),
                                              self.logit_scale, self.prompt_set.name)
                for index, template in enumerate(self.prompt_set.templates)}


def embed_prompts(clip: embed.ClipModel, prompt_set: PromptSet, classes: Sequence[str]) -> PromptEmbeddings:
    """Embed every text of a prompt set (through the text cache)."""
    per_class = [prompt_set.texts(name) for name in classes]
    flat = [text for texts in per_class for text in texts]
    vectors, scale = clip.text_embeddings(flat)
    bounds = np.cumsum([0] + [len(texts) for texts in per_class])
    return PromptEmbeddings(prompt_set, list(classes), [vectors[a:b] for a, b in zip(bounds[:-1], bounds[1:])], scale)


# --- the autopsy ----------------------------------------------------------------------------------

def train_accuracy(classifier: ZeroShotClassifier, unit: np.ndarray, labels: np.ndarray) -> float | None:
    """Accuracy on the training part: what a prompt set is chosen by (None without training images)."""
    return float(np.mean(classifier.predict(unit) == labels)) if len(labels) else None


def cosine_matrix(vectors: np.ndarray) -> list[list[float]]:
    unit = embed.normalize(vectors)
    return np.round(unit @ unit.T, 6).tolist()


def autopsy(clip_key: str, model: str, pretrained: str, images: pd.DataFrame, image_embeddings: np.ndarray,
            prompts: Sequence[PromptEmbeddings], classes: Sequence[str], approach_ids: dict[str, str],
            projection_name: str) -> dict:
    """Why zero-shot fails: the diagnostics of one CLIP model over all its prompt sets.

    Args:
        images: images.parquet rows, in the order of ``image_embeddings``.
        image_embeddings: ndarray of shape (n_images, dim).
        prompts: the embedded prompt sets.
        approach_ids: prompt set name → approach id.

    Returns:
        The ``autopsy:{model key}`` dict of ``docs/bundle.md``; every accuracy is measured on the
        held-out ``eval`` images.
    """
    classes = list(classes)
    held_out = (images["split"] == split.EVAL).to_numpy()
    truth = images.loc[held_out, "label"].astype(str).to_numpy()
    on_train = (images["split"] == split.TRAIN).to_numpy()
    train_unit, train_truth = embed.normalize(image_embeddings)[on_train], images.loc[on_train, "label"].astype(str)
    unit = embed.normalize(image_embeddings)[held_out]
    sets, templates, predicted_distribution, by_set = [], [], {}, {}
    for embedded in prompts:
        name = embedded.prompt_set.name
        classifier = embedded.classifier()
        proba = classifier.predict_proba(unit)
        predicted = np.asarray(classes)[proba.argmax(axis=1)]
        scores = metrics.evaluate(truth, proba, classes, groups=split.interval_groups(images[held_out]))
        by_set[name] = (classifier, proba, predicted)
        sets.append({"name": name, "approach_id": approach_ids[name], "accuracy": scores["accuracy"],
                     "accuracy_ci": scores.get("accuracy_ci"),
                     "balanced_accuracy": scores["balanced_accuracy"], "macro_f1": scores["macro_f1"],
                     "n_templates": len(embedded.prompt_set.templates),
                     "train_accuracy": train_accuracy(classifier, train_unit, train_truth.to_numpy())})
        predicted_distribution[name] = {label: int((predicted == label).sum()) for label in classes}
        for template, single in embedded.template_classifiers().items():
            answers = single.predict(unit)
            templates.append({"prompt_set": name, "template": template,
                              "accuracy": float((answers == truth).mean()) if len(truth) else None,
                              "predicted": {label: int((answers == label).sum()) for label in classes}})
    # chosen on the training part (zero-shot needs no label to predict there; without training
    # images the first listed set); the held-out winner is kept only as an oracle figure
    best = max(sets, key=records.choice_accuracy)["name"]
    oracle = max(sets, key=lambda entry: entry["accuracy"])["name"]
    classifier, proba, predicted = by_set[best]
    text = classifier.class_embeddings
    image_centroid = unit.mean(axis=0) if len(unit) else np.zeros(text.shape[1])
    class_centroids = np.stack([unit[truth == label].mean(axis=0) if (truth == label).any()
                                else np.full(text.shape[1], np.nan) for label in classes])
    correct = predicted == truth
    top_two = np.sort(proba, axis=1)[:, ::-1][:, :2]
    margin = top_two[:, 0] - top_two[:, 1]
    return {
        "model": model,
        "pretrained": pretrained,
        "model_key": clip_key,
        "n_eval": int(held_out.sum()),
        "best_prompt_set": best,
        "oracle_prompt_set": oracle,
        "prompt_sets": sets,
        "templates": templates,
        "true_distribution": {label: int((truth == label).sum()) for label in classes},
        "predicted_distribution": predicted_distribution,
        "modality_gap": {
            "prompt_set": best,
            "measure": "euclidean distance between the centroid of the L2-normalised held-out image "
                       "embeddings and the centroid of the class text embeddings",
            "overall": float(np.linalg.norm(image_centroid - text.mean(axis=0))),
            "per_class": {label: (None if np.isnan(class_centroids[index]).any()
                                  else float(np.linalg.norm(class_centroids[index] - text[index])))
                          for index, label in enumerate(classes)},
            "image_text_cosine": {label: (None if np.isnan(class_centroids[index]).any()
                                          else float(embed.normalize(class_centroids[index]) @ text[index]))
                                  for index, label in enumerate(classes)},
        },
        "text_similarity": cosine_matrix(text),
        "text_similarity_by_prompt_set": {name: cosine_matrix(entry[0].class_embeddings)
                                          for name, entry in by_set.items()},
        "image_centroid_similarity": cosine_matrix(np.nan_to_num(class_centroids)),
        "margins": {"prompt_set": best, "correct": margin[correct].round(6).tolist(),
                    "wrong": margin[~correct].round(6).tolist()},
        "reliability": {"prompt_set": best, **metrics.reliability(proba.max(axis=1), correct)},
        "logit_scale": float(classifier.logit_scale),
        "projection": projection_name,
    }


# --- the pipeline stage ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ZeroShotOptions:
    clip: list[str]
    prompts: list[Path]
    device: str
    precision: str
    seed: int
    cache_dir: Path | None
    batch_size: int
    workers: int
    show_progress: bool
    ray: str | None = None
    ray_actors: int | None = None
    ray_gpus: float | None = None


def approach_ids(clip_key: str, sets: Sequence[PromptSet]) -> dict[str, str]:
    """Prompt set name → the id of its zero-shot approach on ``clip_key``."""
    return {prompt_set.name: records.approach_id(records.ZEROSHOT, clip_key, prompt_set.name) for prompt_set in sets}


def check_options(options: ZeroShotOptions) -> None:
    """Fail in seconds, before the data is read: unusable prompt files, unknown models or devices,
    weights that are neither here nor downloadable.

    Raises:
        PromptError, devices.ModelError: with a message for the user.
    """
    if not options.clip:
        return
    prompt_sets(options.prompts)
    devices.resolve_precision(options.precision, devices.resolve_device(options.device))
    for text in options.clip:
        clip_weights.locate_weights(clip_weights.parse_spec(text))


def units(context: RunContext, options: ZeroShotOptions) -> list[str]:
    """The ``--clip`` models, once every prompt set is found to name the bundle's classes."""
    for prompt_set in prompt_sets(options.prompts):
        check_classes(prompt_set, context.classes)
    return list(options.clip)


def is_done(context: RunContext, options: ZeroShotOptions, text: str) -> bool:
    """Every prompt set's approach, the embeddings, the map and the autopsy of the model are in the bundle."""
    key = clip_weights.parse_spec(text).key
    if not all(context.has_approach(approach) for approach in approach_ids(key, prompt_sets(options.prompts)).values()):
        return False
    written = context.bundle()
    return (key in written.embedding_names() and key in written.projection_names()
            and written.has_diagnostics(f"autopsy:{key}"))


def prompt_inputs(sets: Sequence[PromptSet], classes: Sequence[str]) -> dict[str, dict]:
    """The exact wording of every prompt set (not where it was read from): an input of every stage that
    embeds the prompt sets or chooses among them."""
    return {prompt_set.name: {key: value for key, value in prompt_set.params(classes).items() if key != "source"}
            for prompt_set in sets}


def inputs(context: RunContext, options: ZeroShotOptions, text: str) -> dict:
    """The images, the split, the model (weights and precision), the prompt sets and the seed (the map)."""
    return {**data_inputs(context), "model": {"clip": text, "precision": options.precision},
            "prompt sets": prompt_inputs(prompt_sets(options.prompts), context.classes),
            "options": {"seed": options.seed}}


def run_stage(context: RunContext, options: ZeroShotOptions, text: str) -> None:
    """One ``--clip`` model: embeddings, zero-shot per prompt set, the autopsy and the map."""
    sets = prompt_sets(options.prompts)
    clip = context.clip_model(text, options.device, options.seed, options.cache_dir, options.precision,
                              engine.from_options(options.ray, options.ray_actors, options.ray_gpus))
    run_model(context, options, clip, sets, approach_ids(clip.key, sets))


def run_model(ctx: RunContext, options: ZeroShotOptions, clip: embed.ClipModel, sets: Sequence[PromptSet],
              ids: dict[str, str]) -> None:
    """Embeddings, zero-shot approaches, autopsy and projection of one CLIP model into the bundle."""
    spec = clip.spec
    extracted = clip.image_embeddings(ctx.image_paths(), ctx.images["content_hash"].tolist(),
                                      batch_size=options.batch_size, workers=options.workers,
                                      show_progress=options.show_progress)
    unit = embed.normalize(extracted.embeddings)
    about = {"model_key": clip.key, "model": spec.model, "pretrained": spec.pretrained,
             "weights": clip_weights.weights_kind(spec), "preprocess": clip_weights.preprocess_config(spec),
             "precision": clip.precision}
    ctx.save_embeddings(clip.key, unit, kind="clip_image", normalized=True, **about)
    if extracted.features is not None:
        ctx.save_embeddings(f"{clip.key}:features", extracted.features, kind="clip_features",
                               normalized=False, **about)
    embedded_sets = []
    for prompt_set in sets:
        started = time.perf_counter()
        embedded = embed_prompts(clip, prompt_set, ctx.classes)
        embedded_sets.append(embedded)
        proba = embedded.classifier().predict_proba(unit)
        on_train = (ctx.images["split"] == split.TRAIN).to_numpy()
        chosen_by = train_accuracy(embedded.classifier(), unit[on_train],
                                   ctx.images.loc[on_train, "label"].astype(str).to_numpy())
        ctx.save_approach(records.ZEROSHOT, ctx.images["image_id"].tolist(), proba, model_key=clip.key,
                          model=spec.model, pretrained=spec.pretrained, weights=about["weights"],
                          prompt_set=prompt_set.name,
                          params=prompt_set.params(ctx.classes), device=str(clip.device), precision=clip.precision,
                          wall_time_s=round(time.perf_counter() - started + extracted.seconds, 3),
                          train_accuracy=chosen_by, embedding_seconds=round(extracted.seconds, 3),
                          images_computed=extracted.n_computed, images_from_cache=extracted.n_cached)
    given = set(ids.values())
    for record in ctx.bundle().approaches:  # a prompt set dropped from --prompts: its approach goes too
        if record["kind"] == records.ZEROSHOT and record.get("model_key") == clip.key and record["id"] not in given:
            log.info("zeroshot: prompt set %r is no longer given; its approach %s removed", record.get("prompt_set"),
                     record["id"])
            ctx.remove_approach(record["id"])
    texts = np.concatenate([embedded.classifier().class_embeddings for embedded in embedded_sets])
    coordinates = projection.project(unit, texts, seed=options.seed, search=knn.search_for(clip.device, len(unit)))
    frame = projection.projection_frame(
        coordinates, ctx.images["image_id"].tolist(), ctx.images["label"].tolist(),
        extra_labels=[label for _ in embedded_sets for label in ctx.classes],
        prompt_set=[embedded.prompt_set.name for embedded in embedded_sets for _ in ctx.classes])
    ctx.save_projection(clip.key, frame, model_key=clip.key, source="clip_image",
                        method=projection.method(len(unit)), seed=options.seed)
    diagnostics = autopsy(clip.key, spec.model, spec.pretrained, ctx.images, unit, embedded_sets, ctx.classes,
                          ids, clip.key)
    ctx.save_diagnostics(f"autopsy:{clip.key}", diagnostics)
    best = next(entry for entry in diagnostics["prompt_sets"] if entry["name"] == diagnostics["best_prompt_set"])
    log.info("%s: prompt set chosen on the training images %r, accuracy %.3f on held-out images", clip.key,
             best["name"], best["accuracy"])



STAGE = Stage("zeroshot", "every --clip model: embeddings, zero-shot per prompt set, autopsy, map",
              ZeroShotOptions, run_stage, units=units, done=is_done, inputs=inputs, check=check_options)
