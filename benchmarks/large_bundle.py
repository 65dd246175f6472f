"""A fake but well-formed results bundle of competition size, for size and speed benchmarks.

Every file follows ``docs/bundle.md``: 15,000 images (12,000 labelled, split train/eval, and
3,000 unlabelled ``kaggle_test`` images), five approaches (two zero-shot CLIP models, a linear
probe on each, a fine-tuned ConvNeXt), their predictions, embeddings, three maps (one per model)
and diagnostics. The
numbers are drawn at random around the published leaderboard figures, so pages and reports look
like they would on the real data; nothing here was computed by a model, and the manifest says so
(``demo: true``, ``generated_by``).

Use it from Python (``write_large_bundle(out)``) or from the shell::

    python benchmarks/large_bundle.py --out /tmp/large-bundle [--images 15000]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from analysis.core import bundle  # noqa: E402
from analysis.stats import metrics
from analysis.data.synthetic import CLASS_SHARES, CLASSES, VIEWS  # noqa: E402

TEST_SHARE = 0.2  # share of images that are unlabelled competition test images
EVAL_FRACTION = 0.2
N_FOLDS = 5
THUMBNAIL_VARIANTS = 12  # drawn kernels per (class, view); images reuse them
THUMBNAIL_GRAIN = 12     # per-image noise (grey levels) that makes every thumbnail distinct
# Each model's real embedding width, so that reading and indexing embeddings costs what it would
# (100,000 images: ~0.9 GB of float32 over the three models).
EMBEDDING_DIMS = {"ViT-B-32-quickgelu": 512, "ViT-H-14": 1024, "convnext_tiny": 768}


@dataclass(frozen=True)
class FakeApproach:
    """How one fake approach behaves: its target accuracy and where its wrong answers go."""

    id: str
    kind: str
    model: str
    pretrained: str | None
    accuracy: float
    wrong_towards: dict[str, float]   # class → share of the wrong answers
    confidence: float                 # typical top-1 probability
    wall_time_s: float
    prompt_set: str | None = None
    params: dict = field(default_factory=dict)

    @property
    def model_key(self) -> str:
        return f"{self.model}:{self.pretrained}" if self.pretrained else self.model


B32, H14 = "ViT-B-32-quickgelu:laion400m_e32", "ViT-H-14:laion2b_s32b_b79k"
APPROACHES = (
    FakeApproach(f"zeroshot:{B32}:simple", "zeroshot", "ViT-B-32-quickgelu", "laion400m_e32", 0.175,
                 {"silkcut": 0.7, "discolored": 0.3, "broken": 0.0, "pure": 0.0}, 0.45, 95.0, "simple",
                 {"templates": ["a photo of a {} corn kernel."], "classnames": list(CLASSES)}),
    FakeApproach(f"zeroshot:{H14}:simple", "zeroshot", "ViT-H-14", "laion2b_s32b_b79k", 0.28,
                 {"discolored": 0.55, "silkcut": 0.3, "broken": 0.15, "pure": 0.0}, 0.5, 610.0, "simple",
                 {"templates": ["a photo of a {} corn kernel."], "classnames": list(CLASSES)}),
    FakeApproach(f"probe:{H14}", "probe", "ViT-H-14", "laion2b_s32b_b79k", 0.72,
                 {"pure": 0.5, "broken": 0.3, "discolored": 0.15, "silkcut": 0.05}, 0.75, 40.0, None,
                 {"C": 1.0}),
    FakeApproach("finetune:convnext_tiny", "finetune", "convnext_tiny", None, 0.76,
                 {"pure": 0.45, "broken": 0.35, "discolored": 0.15, "silkcut": 0.05}, 0.8, 2400.0, None,
                 {"epochs": 10, "image_size": 224, "lr": 1e-4}),
    FakeApproach(f"probe:{B32}", "probe", "ViT-B-32-quickgelu", "laion400m_e32", 0.62,
                 {"pure": 0.55, "broken": 0.25, "discolored": 0.15, "silkcut": 0.05}, 0.65, 12.0, None,
                 {"C": 0.1}),
)
BASELINES = (
    FakeApproach("baseline:majority", "baseline", "majority", None, 0.0, {}, 1.0, 0.01),
    FakeApproach("baseline:image-stats", "baseline", "image-stats", None, 0.45,
                 {"pure": 0.6, "broken": 0.3, "discolored": 0.1, "silkcut": 0.0}, 0.5, 3.0),
)


# --- the data part --------------------------------------------------------------------------------

def images_table(n_images: int, rng: np.random.Generator) -> pd.DataFrame:
    """images.parquet: labelled images split train/eval with folds, plus unlabelled test images."""
    n_test = int(round(n_images * TEST_SHARE))
    n_labelled = n_images - n_test
    labels = rng.choice(CLASSES, size=n_labelled, p=CLASS_SHARES)
    is_eval = rng.random(n_labelled) < EVAL_FRACTION
    frame = pd.DataFrame({
        "image_id": [f"train/{i:05d}.png" for i in range(n_labelled)] + [f"test/{i:05d}.png" for i in range(n_test)],
        "path": [f"train/{i:05d}.png" for i in range(n_labelled)] + [f"test/{i:05d}.png" for i in range(n_test)],
        "seed_id": [f"{i:05d}" for i in range(n_images)],
        "view": rng.choice(VIEWS, size=n_images),
        "label": list(labels) + [None] * n_test,
        "width": rng.integers(84, 229, size=n_images),
        "height": rng.integers(84, 229, size=n_images),
        "mode": "RGB",
        "content_hash": [f"{rng.integers(2**63):016x}" for _ in range(n_images)],
        "split": np.where(is_eval, "eval", "train").tolist() + ["kaggle_test"] * n_test,
    })
    frame["fold"] = np.where(frame["split"] == "train", rng.integers(0, N_FOLDS, size=n_images), -1)
    frame["group"] = np.arange(n_images)
    return frame


def thumbnail_bank(rng: np.random.Generator) -> dict[tuple[str, str], list[np.ndarray]]:
    """A few small kernels per (class, view) as RGB arrays, drawn cheaply; images reuse them."""
    tints = {"pure": (232, 190, 80), "broken": (222, 176, 70), "discolored": (170, 120, 60), "silkcut": (236, 200, 96)}
    bank: dict[tuple[str, str], list[np.ndarray]] = {}
    for label in CLASSES:
        for view in VIEWS:
            variants = []
            for _ in range(THUMBNAIL_VARIANTS):
                image = Image.new("RGB", (96, 96), (246, 244, 238))
                draw = ImageDraw.Draw(image)
                colour = tuple(int(np.clip(c + rng.normal(0, 12) - (25 if view == "bottom" else 0), 0, 255))
                               for c in tints[label])
                box = [int(v) for v in (18 + rng.integers(-4, 5), 12 + rng.integers(-4, 5),
                                        78 + rng.integers(-4, 5), 86 + rng.integers(-4, 5))]
                draw.ellipse(box, fill=colour)
                if label == "broken":
                    draw.polygon([(60, 10), (96, 10), (96, 50)], fill=(246, 244, 238))
                if label == "discolored":
                    draw.ellipse([40, 40, 58, 60], fill=(90, 60, 30))
                if label == "silkcut":
                    draw.line([(30, 50), (70, 46)], fill=(120, 90, 40), width=2)
                variants.append(np.asarray(image, dtype=np.int16))
            bank[(label, view)] = variants
    return bank


def thumbnails_table(images: pd.DataFrame, rng: np.random.Generator, grain_rng: np.random.Generator) -> pd.DataFrame:
    """thumbnails.parquet: one distinct JPEG per image (a bank kernel plus its own grain from
    ``grain_rng``), about the size of a real thumbnail (~2.7 KB), so that reading and holding
    thumbnails costs what it would."""
    bank = thumbnail_bank(rng)
    labels = images["label"].fillna("pure")
    picks = rng.integers(0, THUMBNAIL_VARIANTS, size=len(images))
    jpegs = []
    for label, view, pick in zip(labels, images["view"], picks):
        grain = grain_rng.integers(-THUMBNAIL_GRAIN, THUMBNAIL_GRAIN + 1, size=(96, 96, 1), dtype=np.int16)
        buffer = io.BytesIO()
        Image.fromarray(np.clip(bank[(label, view)][pick] + grain, 0, 255).astype(np.uint8)).save(
            buffer, format="JPEG", quality=85)
        jpegs.append(buffer.getvalue())
    return pd.DataFrame({"image_id": images["image_id"], "jpeg": jpegs})


# --- approaches -----------------------------------------------------------------------------------

def fake_probabilities(labels: np.ndarray, approach: FakeApproach, majority: str,
                       rng: np.random.Generator) -> np.ndarray:
    """ndarray of shape (n_images, n_classes) whose argmax hits ``approach.accuracy`` on labelled rows
    and sends wrong answers where ``approach.wrong_towards`` says."""
    classes = list(CLASSES)
    n = len(labels)
    if approach.id == "baseline:majority":
        proba = np.zeros((n, len(classes)))
        proba[:, classes.index(majority)] = 1.0
        return proba
    known = np.array([label in classes for label in labels])
    truth = np.array([classes.index(label) if ok else rng.integers(len(classes)) for label, ok in zip(labels, known)])
    correct = rng.random(n) < approach.accuracy
    towards = np.array([approach.wrong_towards.get(name, 0.0) for name in classes])
    predicted = truth.copy()
    for row in np.flatnonzero(~correct):
        weights = towards.copy()
        weights[truth[row]] = 0.0
        weights = weights if weights.sum() > 0 else np.ones(len(classes)) - np.eye(len(classes))[truth[row]]
        predicted[row] = rng.choice(len(classes), p=weights / weights.sum())
    logits = rng.normal(0.0, 1.0, size=(n, len(classes)))
    logits[np.arange(n), predicted] = logits.max(axis=1) + rng.exponential(3.0 * approach.confidence, size=n) + 0.05
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    return proba / proba.sum(axis=1, keepdims=True)


def scored_record(approach: FakeApproach, images: pd.DataFrame, proba: np.ndarray) -> dict:
    """The manifest entry of one approach, scored on the eval rows like the pipeline does."""
    eval_rows = (images["split"] == "eval").to_numpy()
    scores = metrics.evaluate(images.loc[eval_rows, "label"].to_numpy(), proba[eval_rows], list(CLASSES))
    predicted = np.asarray(CLASSES)[proba.argmax(axis=1)]
    held_out = images[eval_rows].assign(correct=predicted[eval_rows] == images.loc[eval_rows, "label"].to_numpy())
    scores["accuracy_by_view"] = {str(view): float(group["correct"].mean()) for view, group in held_out.groupby("view")}
    return {"id": approach.id, "kind": approach.kind, "model": approach.model, "pretrained": approach.pretrained,
            "model_key": approach.model_key, "prompt_set": approach.prompt_set, "params": approach.params, "metrics": scores,
            "wall_time_s": approach.wall_time_s, "device": "cuda" if approach.kind != "baseline" else "cpu"}


def autopsy_diagnostics(approach: FakeApproach, images: pd.DataFrame, proba: np.ndarray,
                        rng: np.random.Generator) -> dict:
    """``autopsy:{model key}``: the shapes the zero-shot autopsy writes."""
    eval_rows = (images["split"] == "eval").to_numpy()
    labels = images.loc[eval_rows, "label"].to_numpy()
    held_out = proba[eval_rows]
    predicted = np.asarray(CLASSES)[held_out.argmax(axis=1)]
    correct = predicted == labels
    sorted_proba = np.sort(held_out, axis=1)
    margins = sorted_proba[:, -1] - sorted_proba[:, -2]
    prompt_sets = []
    for name, shift in (("simple", 0.0), ("openai-imagenet", -0.03), ("descriptive", 0.04)):
        accuracy = float(np.clip(approach.accuracy + shift, 0, 1))
        prompt_sets.append({"name": name, "approach_id": approach.id if name == approach.prompt_set else None,
                            "accuracy": accuracy if name != approach.prompt_set else float(correct.mean()),
                            "balanced_accuracy": float(np.clip(accuracy * 0.9 + 0.03, 0, 1))})
    templates = [{"prompt_set": "openai-imagenet", "template": template,
                  "accuracy": float(np.clip(approach.accuracy + rng.normal(0, 0.06), 0, 1))}
                 for template in ("a photo of a {}.", "a bad photo of a {}.", "a close-up photo of a {}.",
                                  "a photo of the small {}.", "a cropped photo of a {}.", "art of the {}.")]
    n = len(CLASSES)
    text = np.clip(0.82 + 0.1 * rng.random((n, n)), 0, 1)
    image = np.clip(0.45 + 0.2 * rng.random((n, n)), 0, 1)
    text, image = (text + text.T) / 2, (image + image.T) / 2
    np.fill_diagonal(text, 1.0)
    np.fill_diagonal(image, 1.0)
    return {
        "model": approach.model, "pretrained": approach.pretrained, "model_key": approach.model_key,
        "best_prompt_set": approach.prompt_set, "prompt_sets": prompt_sets, "templates": templates,
        "true_distribution": {name: int((labels == name).sum()) for name in CLASSES},
        "predicted_distribution": {approach.prompt_set: {name: int((predicted == name).sum()) for name in CLASSES}},
        "modality_gap": {"measure": "euclidean distance between the image and text centroids (fake)",
                         "overall": float(rng.uniform(0.75, 0.85)),
                         "per_class": {name: float(rng.uniform(0.7, 0.9)) for name in CLASSES}},
        "text_similarity": text.tolist(), "image_centroid_similarity": image.tolist(),
        "margins": {"correct": margins[correct].tolist(), "wrong": margins[~correct].tolist()},
        "reliability": metrics.reliability(held_out.max(axis=1), correct),
        "projection": approach.model_key,
    }


def probe_diagnostics(approach: FakeApproach, zeroshot_accuracy: float, majority_rate: float,
                      rng: np.random.Generator) -> dict:
    """``probe:{model key}``: C sweep, k-shot curve, zero-shot blend."""
    c_values = [10.0 ** power for power in range(-4, 3)]
    peak = approach.accuracy
    c_sweep = [{"C": c, "cv_accuracy_mean": float(peak - 0.04 * abs(np.log10(c)) + rng.normal(0, 0.005)),
                "cv_accuracy_std": float(rng.uniform(0.005, 0.02))} for c in c_values]
    ks = [1, 2, 4, 8, 16, 32, 64, 128]
    means = [float(zeroshot_accuracy * 0.8 + (peak - zeroshot_accuracy * 0.8) * (1 - np.exp(-k / 20))) for k in ks]
    crossing = next((k for k, mean in zip(ks, means) if mean >= zeroshot_accuracy), None)
    return {
        "c_sweep": c_sweep, "best_C": 1.0,
        "kshot": {"k": ks, "mean": means, "std": [float(0.08 / np.sqrt(k)) for k in ks], "draws": 10},
        "zeroshot_accuracy": zeroshot_accuracy, "majority_rate": majority_rate, "effective_shots": crossing,
        "blend": [{"alpha": float(alpha), "accuracy": float(peak - 0.4 * alpha ** 2)} for alpha in np.linspace(0, 1, 11)],
    }


def finetune_diagnostics(approach: FakeApproach, rng: np.random.Generator) -> dict:
    """``finetune:{timm name}``: training curves."""
    epochs = approach.params.get("epochs", 10)
    rows = []
    for epoch in range(1, epochs + 1):
        progress = 1 - np.exp(-epoch / 3)
        rows.append({"epoch": epoch, "train_loss": float(1.3 - 1.0 * progress + rng.normal(0, 0.02)),
                     "train_accuracy": float(0.45 + 0.5 * progress), "val_loss": float(1.25 - 0.65 * progress),
                     "val_accuracy": float(0.42 + (approach.accuracy - 0.42) * progress + rng.normal(0, 0.005)),
                     "lr": float(1e-4 * 0.5 * (1 + np.cos(np.pi * (epoch - 1) / epochs))), "seconds": 240.0})
    best = max(rows, key=lambda row: row["val_accuracy"])["epoch"]
    return {"epochs": rows, "best_epoch": best, "weights": "imagenet", "tta": False}


def confounder_diagnostics(images: pd.DataFrame, majority_rate: float, rng: np.random.Generator) -> dict:
    """``confounders``: per-class image statistics and what they predict on their own."""
    labelled = images[images["label"].notna()]
    levels = [0.05, 0.25, 0.5, 0.75, 0.95]
    per_class = {}
    for name in CLASSES:
        rows = labelled[labelled["label"] == name]
        stats: dict = {"n": len(rows)}
        for feature in ("width", "height"):
            values = rows[feature].to_numpy(dtype=float)
            stats[feature] = {"mean": float(values.mean()), "std": float(values.std()),
                              "quantiles": np.quantile(values, levels).tolist()}
        for feature, centre in (("saturation", 35.0), ("brightness", 224.0)):
            values = rng.normal(centre, 8.0, size=max(len(rows), 2))
            stats[feature] = {"mean": float(values.mean()), "std": float(values.std()),
                              "quantiles": np.quantile(values, levels).tolist()}
        stats["view_shares"] = rows["view"].value_counts(normalize=True).to_dict()
        per_class[name] = stats
    shortcuts = {name: {"features": features, "accuracy": accuracy, "accuracy_ci": [accuracy - 0.02, accuracy + 0.02]}
                 for name, features, accuracy in (("size", ["width", "height", "aspect"], 0.43), ("view", ["view"], 0.41),
                                                  ("colour", ["saturation_mean", "value_mean"], 0.47),
                                                  ("all", ["width", "height", "view", "saturation_mean"], 0.5))}
    return {"classes": list(CLASSES), "units": {"width": "px", "height": "px",
                                                "saturation": "mean HSV saturation of the image, 0-255",
                                                "brightness": "mean HSV value (max of R, G, B) of the image, 0-255"},
            "quantile_levels": levels, "per_class": per_class, "majority_rate": majority_rate,
            "shortcut_accuracy": {name: entry["accuracy"] for name, entry in shortcuts.items()}, "shortcuts": shortcuts}


def agreement_diagnostics(images: pd.DataFrame, predicted: dict[str, np.ndarray]) -> dict:
    """``agreement``: how often each pattern of right and wrong occurs on the eval images."""
    eval_rows = (images["split"] == "eval").to_numpy()
    labels = images.loc[eval_rows, "label"].to_numpy()
    right = pd.DataFrame({approach_id: pred[eval_rows] == labels for approach_id, pred in predicted.items()})
    patterns = right.value_counts().reset_index(name="count")
    all_wrong = images.loc[eval_rows, "image_id"][~right.any(axis=1).to_numpy()].tolist()
    return {"approaches": list(predicted),
            "patterns": [{"correct": {approach_id: bool(row[approach_id]) for approach_id in predicted},
                          "count": int(row["count"])} for _, row in patterns.iterrows()],
            "all_wrong": all_wrong}


def projection_table(images: pd.DataFrame, separation: float, with_text: bool, rng: np.random.Generator) -> pd.DataFrame:
    """``projections/<model>.parquet``: class clusters in 2-D (tighter for better models)."""
    centres = {name: np.array([np.cos(i * np.pi / 2), np.sin(i * np.pi / 2)]) * 4 for i, name in enumerate(CLASSES)}
    labels = images["label"].fillna("pure").to_numpy()
    points = np.stack([centres[label] for label in labels]) * separation + rng.normal(0, 1.6, size=(len(images), 2))
    frame = pd.DataFrame({"image_id": images["image_id"], "kind": "image", "label": images["label"],
                          "x": points[:, 0], "y": points[:, 1]})
    if with_text:
        text = pd.DataFrame({"image_id": [None] * len(CLASSES), "kind": "text", "label": list(CLASSES),
                             "x": [10.0 + i for i in range(len(CLASSES))], "y": [10.0 + 0.5 * i for i in range(len(CLASSES))]})
        frame = pd.concat([frame, text], ignore_index=True)
    return frame


# --- the whole bundle -----------------------------------------------------------------------------

def write_large_bundle(out: str | Path, n_images: int = 15_000, seed: int = 0, baselines: bool = False,
                       approaches: tuple[FakeApproach, ...] = APPROACHES) -> bundle.Bundle:
    """Write a fake, well-formed bundle of ``n_images`` images at ``out`` (replacing one there).

    Args:
        out: bundle folder to write.
        n_images: images in total; 20% become unlabelled ``kaggle_test`` images.
        seed: random seed; the same seed gives the same tables.
        baselines: also store the two baseline approaches (majority, image statistics).
        approaches: the fake approaches to store (default: the five of :data:`APPROACHES`).

    Returns:
        The bundle, opened and validated.
    """
    out = Path(out)
    rng = np.random.default_rng(seed)
    images = images_table(n_images, rng)
    labelled = images[images["label"].notna()]
    train, held_out = labelled[labelled["split"] == "train"], labelled[labelled["split"] == "eval"]
    manifest = {
        "demo": True, "generated_by": "benchmarks/large_bundle.py (fake numbers, no model was run)",
        "classes": list(CLASSES),
        "dataset": {"root": str(out.with_name(out.name + "-images")), "layout": "kaggle", "classes": list(CLASSES),
                    "counts": {name: int((labelled["label"] == name).sum()) for name in CLASSES},
                    "views": {str(k): int(v) for k, v in labelled["view"].value_counts().items()},
                    "n_labelled": len(labelled), "n_unlabelled": n_images - len(labelled),
                    "fingerprint": f"fake-{n_images}-{seed}", "problems": {}, "sample_submission": None},
        "split": {"seed": seed, "eval_fraction": EVAL_FRACTION, "n_folds": N_FOLDS, "grouped_by": ["seed_id", "content_hash"],
                  "counts": {str(k): int(v) for k, v in images["split"].value_counts().items()}},
        "reference": metrics.reference_rates(train["label"].to_numpy(), held_out["label"].to_numpy(), list(CLASSES)),
    }
    bundle.create_bundle(out, manifest, images, thumbnails_table(images, rng, np.random.default_rng([seed, 1])))
    bundle.save_diagnostics(out, "data", {"problems": [], "duplicates": []})
    scored = images[images["split"].isin(["eval", "kaggle_test"])]
    labels = scored["label"].to_numpy()
    predicted: dict[str, np.ndarray] = {}
    zeroshot_accuracy: dict[str, float] = {}
    for approach in (BASELINES if baselines else ()) + tuple(approaches):
        proba = fake_probabilities(labels, approach, manifest["reference"]["majority_class"], rng)
        record = scored_record(approach, scored.reset_index(drop=True), proba)
        diagnostics = None
        if approach.kind == "zeroshot":
            zeroshot_accuracy[approach.model_key] = record["metrics"]["accuracy"]
        elif approach.kind == "probe":
            diagnostics = probe_diagnostics(approach, zeroshot_accuracy.get(approach.model_key, 0.25),
                                            manifest["reference"]["majority_rate"], rng)
        elif approach.kind == "finetune":
            diagnostics = finetune_diagnostics(approach, rng)
        bundle.save_approach(out, record, bundle.predictions_frame(scored["image_id"].to_numpy(), proba, list(CLASSES)),
                             diagnostics)
        if approach.kind == "zeroshot":
            bundle.save_diagnostics(out, f"autopsy:{approach.model_key}",
                                    autopsy_diagnostics(approach, scored.reset_index(drop=True), proba, rng))
        if approach.kind != "baseline":
            predicted[approach.id] = np.asarray(CLASSES)[proba.argmax(axis=1)]
    models = {approach.model_key: approach for approach in approaches}
    wide_rng = np.random.default_rng([seed, 2])
    for index, (key, approach) in enumerate(models.items()):
        kind = "convnext" if approach.kind == "finetune" else "clip_image"
        width = EMBEDDING_DIMS.get(approach.model, 64)
        vectors = np.hstack([rng.normal(size=(n_images, 64)),  # the first 64 from ``rng``: the other tables stay as they were
                             wide_rng.normal(size=(n_images, width - 64))]).astype(np.float32)
        bundle.save_embeddings(out, key, vectors,
                               kind=kind, model_key=key, model=approach.model, pretrained=approach.pretrained)
        separation = {"zeroshot": 0.5, "probe": 0.5, "finetune": 1.2}[approach.kind] + 0.2 * index
        bundle.save_projection(out, key, projection_table(images, separation, approach.kind != "finetune", rng),
                               method="umap", model=approach.model)
    bundle.save_diagnostics(out, "confounders", confounder_diagnostics(images, manifest["reference"]["majority_rate"], rng))
    scored_labelled = scored.reset_index(drop=True)
    agreement = agreement_diagnostics(scored_labelled, predicted)
    bundle.save_diagnostics(out, "agreement", agreement)
    labels = scored_labelled.set_index("image_id")["label"]
    bundle.save_diagnostics(out, "label_problems", {"rows": [
        {"kind": "all_wrong", "image_ids": [image_id], "labels": [labels[image_id]],
         "message": "every approach gets this image wrong"} for image_id in agreement["all_wrong"][:50]]})
    return bundle.open_bundle(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="bundle folder to write")
    parser.add_argument("--images", type=int, default=15_000, help="images in total (default 15000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--baselines", action="store_true", help="also store the two baseline approaches")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    written = write_large_bundle(args.out, args.images, args.seed, args.baselines)
    size = sum(path.stat().st_size for path in written.path.rglob("*") if path.is_file())
    print(f"wrote {args.images} images, {len(written.approaches)} approaches to {written.path} "
          f"({size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
