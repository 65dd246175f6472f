"""The ladder stage: every rung of every CLIP model stored as an approach, then the ladder and
the verdict as diagnostics.

For each ``--clip`` model whose image embeddings are in the bundle, the text tower embeds every
prompt set and every candidate wording (through the text cache), :func:`analysis.ladder.rungs.climb`
fits the rungs on the training part, and each rung is saved and scored like any approach
(``zeroshot-calibrated:{model key}``, ``zeroshot-worded:{model key}``,
``zeroshot-worded-calibrated:{model key}``, ``centroid:{model key}``, ``knn:{model key}``). Then
``ladder:{model key}`` (the rungs side by side, the steps between them with paired intervals, the
alignment table, and the attribution of :func:`analysis.ladder.attribution.attribute`: each point
of zero-shot's gap credited once) and ``verdict`` are written from the stored predictions. Runs after the probe and ConvNeXt so that their rungs are in the ladder.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from analysis.stats import alignment
from analysis.ladder import rungs, summary
from analysis.core import records
from analysis.data import split
from analysis.models import clip_weights, devices
from analysis.stages import zeroshot
from analysis.stages.context import RunContext, Stage, data_inputs

log = logging.getLogger(__name__)

WORDINGS_DIR = Path(__file__).with_name("wordings")


class WordingsError(zeroshot.PromptError):
    """A wordings file is unusable; the message names the file."""


def read_wordings(path: str | Path) -> dict[str, list[str]]:
    """A wordings file: JSON ``{"class": ["phrase", …], …}``.

    Raises:
        WordingsError: missing file, not JSON, or not a mapping of class names to lists of
            non-empty strings.
    """
    path = Path(path)
    raw = zeroshot.read_json_file(path, WordingsError, "wordings file")
    if not isinstance(raw, dict) or not all(
            isinstance(phrases, list) and all(isinstance(p, str) and p.strip() for p in phrases)
            for phrases in raw.values()):
        raise WordingsError(f"{path}: expected a JSON object mapping each class name to a list of phrases, "
                            "e.g. {\"broken\": [\"cracked\", \"chipped\"]}.")
    return {str(name): [phrase.strip() for phrase in phrases] for name, phrases in raw.items()}


def wordings(files: Sequence[str | Path], classes: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """Class → (phrase, source) from the packaged lists and the user's ``--wordings`` files.

    A packaged list is used only for the classes it names; a user's file naming a class the
    dataset does not have is reported (likely a typo).
    """
    found: dict[str, list[tuple[str, str]]] = {name: [] for name in classes}
    for path in sorted(WORDINGS_DIR.glob("*.json")):
        for name, phrases in read_wordings(path).items():
            if name in found:
                found[name] += [(phrase, f"wordings {path.stem}") for phrase in phrases]
    for path in files:
        listed = read_wordings(path)
        unknown = sorted(set(listed) - set(classes))
        if unknown:
            log.warning("%s: wordings for class(es) %s that the dataset does not have (classes: %s); ignored",
                        path, ", ".join(unknown), ", ".join(classes))
        for name, phrases in listed.items():
            if name in found:
                found[name] += [(phrase, f"wordings file {Path(path).name}") for phrase in phrases]
    return found


def candidate_texts(chosen: zeroshot.PromptSet, sets: Sequence[zeroshot.PromptSet], class_name: str,
                    extra: Sequence[tuple[str, str]]) -> list[tuple[str, str, list[str]]]:
    """Candidate wordings of one class: (text, source, the texts whose mean embedding it is).

    The chosen set's own wording comes first (it is where the search starts), then the bare
    class name, every other set's wording, the listed phrases — each put into the chosen set's
    templates — and every description of the class, each a whole sentence of its own.
    """
    phrases = [(chosen.wording(class_name), f"prompt set {chosen.name}"),
               (class_name.replace("_", " "), "class name")]
    phrases += [(prompt_set.wording(class_name), f"prompt set {prompt_set.name}") for prompt_set in sets]
    phrases += list(extra)
    candidates, seen = [], set()
    for text, source in phrases:
        if text.lower() not in seen:
            seen.add(text.lower())
            candidates.append((text, source, [template.format(text) for template in chosen.templates]))
    for prompt_set in sets:
        for sentence in prompt_set.descriptions.get(class_name, ()):
            if sentence.lower() not in seen:
                seen.add(sentence.lower())
                candidates.append((sentence, f"description in {prompt_set.name}", [sentence]))
    return candidates


def wording_candidates(clip, sets: Sequence[zeroshot.PromptSet], classes: Sequence[str],
                       extra: dict[str, list[tuple[str, str]]]):
    """The function :func:`analysis.ladder.rungs.climb` calls with the chosen set's name."""
    by_name = {prompt_set.name: prompt_set for prompt_set in sets}

    def build(name: str) -> list[list[rungs.Wording]]:
        per_class = [candidate_texts(by_name[name], sets, class_name, extra.get(class_name, ()))
                     for class_name in classes]
        flat = [text for options in per_class for _, _, texts in options for text in texts]
        vectors, _ = clip.text_embeddings(flat)
        result, start = [], 0
        for options in per_class:
            row = []
            for text, source, texts in options:
                row.append(rungs.Wording(text, source, rungs.normalize(vectors[start:start + len(texts)].mean(axis=0))))
                start += len(texts)
            result.append(row)
        return result

    return build


def rung_id(rung: str, model_key: str) -> str:
    return records.approach_id(rung, model_key)


def clip_keys(manifest: dict) -> dict[str, dict]:
    """Model key → its ``clip_image`` embeddings entry (name under ``file_name``)."""
    return {entry.get("model_key", name): {**entry, "name": name}
            for name, entry in manifest.get("embeddings", {}).items() if entry.get("kind") == "clip_image"}


@dataclass(frozen=True)
class LadderOptions:
    clip: list[str]
    prompts: list[Path]
    wordings: list[Path]
    device: str
    seed: int
    cache_dir: Path | None
    precision: str  # as the zero-shot stage: the same text embeddings (the cache is keyed by precision)


def climb_model(context: RunContext, options: LadderOptions, clip, entry: dict) -> None:
    """Fit and store the computed rungs of one CLIP model."""
    started = time.perf_counter()
    opened = context.bundle()
    images, classes = opened.images(), opened.classes
    sets = zeroshot.prompt_sets(options.prompts)
    embedded = {prompt_set.name: zeroshot.embed_prompts(clip, prompt_set, classes) for prompt_set in sets}
    set_embeddings = {name: value.classifier().class_embeddings for name, value in embedded.items()}
    scale = next(iter(embedded.values())).logit_scale
    extra = wordings(options.wordings, classes)
    split_of = images["split"].to_numpy()
    is_train, is_eval = split_of == split.TRAIN, split_of == split.EVAL
    predict_rows = np.isin(split_of, [split.EVAL, split.KAGGLE_TEST])
    climbed = rungs.climb(np.asarray(opened.embeddings(entry["name"]), dtype=np.float32),
                           images["label"].to_numpy(dtype=object), is_train, images["fold"].to_numpy(), classes,
                           set_embeddings, scale, wording_candidates(clip, sets, classes, extra), predict_rows,
                           is_eval=is_eval, device=str(devices.resolve_device(options.device)))
    seconds = time.perf_counter() - started
    image_ids = images.loc[predict_rows, "image_id"].tolist()
    key = entry.get("model_key", clip.key)
    for name in rungs.COMPUTED_RUNGS:
        rung = climbed.rungs[name]
        context.save_approach(name, image_ids, climbed.proba[name], model_key=key, model=entry.get("model"),
                              pretrained=entry.get("pretrained"), weights=entry.get("weights"),
                              params={**rung.choice, "trained_on": split.TRAIN},
                              train_accuracy=rung.train_accuracy, search=rung.details,
                              wall_time_s=round(seconds, 3))
    chosen = climbed.prompt_choice["prompt_set"]
    centroids = rungs.class_centroids(np.asarray(opened.embeddings(entry["name"]))[is_train],
                                       rungs.label_indices(images.loc[is_train, "label"], classes), len(classes))
    table = alignment.alignment_table(set_embeddings[chosen], centroids, classes,
                                      {name: embedded[chosen].prompt_set.wording(name) for name in classes},
                                      alignment.tokenizer_for(entry.get("model")))
    context.save_diagnostics(f"climb:{key}", {"model_key": key, "prompt_choice": climbed.prompt_choice,
                                              "alignment": table, "ranking": climbed.ranking,
                                              "seconds": round(seconds, 2)})


LADDERS = None  # the last unit: every CLIP model's ladder and the verdict, from the bundle as it stands


def units(context: RunContext, options: LadderOptions) -> list[str | None]:
    """The ``--clip`` models whose image embeddings are in the bundle, then :data:`LADDERS`."""
    keys = clip_keys(context.bundle().manifest)
    found = []
    for text in options.clip:
        if clip_weights.parse_spec(text).key in keys:
            found.append(text)
        else:
            log.warning("%s: no image embeddings in the bundle; the ladder needs the zero-shot stage first", text)
    return [*found, LADDERS]


def is_done(context: RunContext, options: LadderOptions, text: str | None) -> bool:
    """Every computed rung of the model and its ``climb`` diagnostics are in the bundle; the ladders
    and the verdict are always redrawn (they read every approach)."""
    if text is LADDERS:
        return False
    key = clip_weights.parse_spec(text).key
    return (all(context.has_approach(rung_id(name, key)) for name in rungs.COMPUTED_RUNGS)
            and context.bundle().has_diagnostics(f"climb:{key}"))


def inputs(context: RunContext, options: LadderOptions, text: str | None) -> dict:
    """The images, the split, the model, the prompt sets, the wordings, the seed and the rungs' recipe
    (:data:`analysis.ladder.rungs.METHOD_VERSION`) of one model's rungs: a bundle whose rungs were
    computed by an older recipe recomputes them."""
    if text is LADDERS:
        return {}
    extra = wordings(options.wordings, context.classes)
    return {**data_inputs(context), "model": {"clip": text, "precision": options.precision},
            "prompt sets": zeroshot.prompt_inputs(zeroshot.prompt_sets(options.prompts), context.classes),
            "wordings": {name: [phrase for phrase, _ in phrases] for name, phrases in extra.items()},
            "options": {"seed": options.seed}, "method": {"rungs": rungs.METHOD_VERSION}}


def run_stage(context: RunContext, options: LadderOptions, text: str | None) -> None:
    """The rungs of one ``--clip`` model; for the last unit, every CLIP model's ladder and the verdict."""
    if text is LADDERS:
        opened = context.bundle()
        for key in clip_keys(opened.manifest):
            if opened.has_diagnostics(f"climb:{key}"):
                context.save_diagnostics(f"ladder:{key}", summary.summary(opened, key))
        context.save_diagnostics("verdict", summary.verdict_of(context.bundle()))
        return
    clip = context.clip_model(text, options.device, options.seed, options.cache_dir, options.precision)
    try:
        climb_model(context, options, clip, clip_keys(context.bundle().manifest)[clip.key])
    except ValueError as error:  # a class without training images, fewer than two folds
        log.warning("%s: ladder skipped: %s", clip.key, error)


def describe(text: str | None) -> str:
    return "the ladders and the verdict" if text is LADDERS else text


def check_options(options: LadderOptions) -> None:
    """Fail in seconds on an unusable ``--wordings`` file.

    Raises:
        WordingsError: naming the file.
    """
    for path in options.wordings:
        read_wordings(path)


STAGE = Stage("ladder", "every --clip model: calibrated, worded, centroid and kNN rungs; the ladders and the verdict",
              LadderOptions, run_stage, units=units, done=is_done, inputs=inputs, check=check_options,
              describe=describe)
