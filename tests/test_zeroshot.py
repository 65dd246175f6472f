"""Zero-shot: prompt sets as data (open_clip's own templates, user files in the issue's format), the
classifier's estimator interface, the autopsy's numbers on constructed embeddings, and the demo
bundle's zero-shot part as the dashboard reads it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from open_clip.zero_shot_metadata import OPENAI_IMAGENET_TEMPLATES

from analysis.core import bundle
from analysis.cli import commands
from analysis.models import embed, projection
from analysis.stages import zeroshot

CLASSES = ["pure", "broken", "discolored", "silkcut"]
AUTOPSY_KEYS = {"model", "pretrained", "prompt_sets", "templates", "true_distribution", "predicted_distribution",
                "modality_gap", "text_similarity", "image_centroid_similarity", "margins", "reliability",
                "projection"}
ISSUE_EXAMPLE = {"name": "mine", "templates": ["a photo of a {}."],
                 "classnames": {"silkcut": "kernel with a thin silk cut"},
                 "descriptions": {"broken": ["a corn kernel with a piece missing"]}}


# --- prompt sets ----------------------------------------------------------------------------------

def test_built_in_sets_reuse_open_clip_templates():
    sets = {prompt_set.name: prompt_set for prompt_set in zeroshot.prompt_sets()}
    assert list(sets) == ["classname", "a-photo-of", "openai-imagenet", "simple-imagenet", "corn"]
    assert sets["openai-imagenet"].templates == tuple(template("{}") for template in OPENAI_IMAGENET_TEMPLATES)
    assert len(sets["openai-imagenet"].templates) == 80
    assert sets["classname"].texts("silkcut") == ["silkcut"]
    assert sets["corn"].texts("silkcut")[0] == "a close-up photo of a silk-cut corn kernel."


def test_user_file_in_the_issue_format(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(ISSUE_EXAMPLE))
    mine = zeroshot.prompt_sets([path])[-1]
    assert mine.name == "mine" and mine.source == str(path)
    assert mine.texts("silkcut") == ["a photo of a kernel with a thin silk cut."]
    assert mine.texts("broken") == ["a photo of a broken.", "a corn kernel with a piece missing"]
    assert mine.params(CLASSES) == {
        "templates": ["a photo of a {}."],
        "classnames": {"pure": "pure", "broken": "broken", "discolored": "discolored",
                       "silkcut": "kernel with a thin silk cut"},
        "descriptions": {"broken": ["a corn kernel with a piece missing"]},
        "source": str(path)}


@pytest.mark.parametrize("content, message", [
    ("{not json", "cannot be read as JSON"),
    (json.dumps({"templates": ["a {}"]}), "\"name\" must be a non-empty string"),
    (json.dumps({"name": "x", "templates": []}), "\"templates\" must be a non-empty list"),
    (json.dumps({"name": "x", "templates": ["a photo"]}), "exactly one {}"),
    (json.dumps({"name": "x", "templates": ["a {0} {1}"]}), "not a format string"),
    (json.dumps({"name": "x", "templates": ["a {}"], "clasnames": {}}), "unknown key(s) clasnames"),
    (json.dumps({"name": "x", "templates": ["a {}"], "descriptions": {"broken": "one"}}), "lists of sentences"),
    (json.dumps({"name": "corn", "templates": ["a {}"]}), "already used by"),
])
def test_bad_prompt_files_name_the_file_and_the_key(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(zeroshot.PromptError, match=str(path).replace(".", r"\.")) as caught:
        zeroshot.prompt_sets([path])
    assert message in str(caught.value)


# --- the classifier -------------------------------------------------------------------------------

def unit(rows) -> np.ndarray:
    return embed.normalize(np.asarray(rows, dtype=np.float32))


def test_classifier_is_an_estimator():
    classifier = zeroshot.ZeroShotClassifier(["a", "b"], unit([[1, 0], [0, 1]]), 100.0)
    images = np.array([[3.0, 0.1], [0.2, 5.0]])
    proba = classifier.predict_proba(images)
    assert proba.shape == (2, 2) and np.allclose(proba.sum(axis=1), 1)
    assert classifier.predict(images).tolist() == ["a", "b"]
    np.testing.assert_allclose(classifier.decision_function(images), 100 * unit(images) @ unit([[1, 0], [0, 1]]).T,
                               rtol=1e-6)


def test_descriptions_join_the_class_average():
    prompt_set = zeroshot.PromptSet("p", ("a {}", "b {}"), descriptions={"x": ("extra",)})
    texts = [unit([[1, 0, 0], [0, 1, 0], [0, 0, 1]]), unit([[1, 1, 0], [1, 0, 1]])]
    embedded = zeroshot.PromptEmbeddings(prompt_set, ["x", "y"], texts, 10.0)
    weights = embedded.classifier().class_embeddings
    np.testing.assert_allclose(weights[0], unit([1, 1, 1]), rtol=1e-6)
    singles = embedded.template_classifiers()
    assert list(singles) == ["a {}", "b {}"]
    np.testing.assert_allclose(singles["b {}"].class_embeddings, np.stack([texts[0][1], texts[1][1]]))


# --- the autopsy on constructed embeddings ------------------------------------------------------

def constructed_autopsy() -> tuple[dict, pd.DataFrame]:
    """4 orthogonal class texts; held-out images sit exactly on their class text, except two
    silkcut images that sit on "pure" (so zero-shot says pure for them)."""
    texts = np.eye(4, 8, dtype=np.float32)
    labels = ["pure"] * 4 + ["broken"] * 4 + ["discolored"] * 4 + ["silkcut"] * 4
    images = pd.DataFrame({"image_id": [f"i{n}" for n in range(20)], "label": labels + [None] * 4,
                           "split": ["eval"] * 16 + ["kaggle_test"] * 4})
    vectors = np.stack([texts[CLASSES.index(label)] for label in labels] + [texts[0]] * 4)
    vectors[12:14] = texts[0]
    prompt_set = zeroshot.PromptSet("one", ("{}",))
    embedded = zeroshot.PromptEmbeddings(prompt_set, CLASSES, [texts[[index]] for index in range(4)], 100.0)
    result = zeroshot.autopsy("M:w", "M", "w", images, vectors, [embedded], CLASSES,
                              {"one": "zeroshot:M:w:one"}, "M:w")
    return result, images


def test_autopsy_numbers():
    result, _ = constructed_autopsy()
    assert AUTOPSY_KEYS <= set(result)
    assert result["prompt_sets"][0]["accuracy"] == pytest.approx(14 / 16)
    assert result["templates"] == [{"prompt_set": "one", "template": "{}", "accuracy": pytest.approx(14 / 16),
                                    "predicted": {"pure": 6, "broken": 4, "discolored": 4, "silkcut": 2}}]
    assert result["true_distribution"] == {"pure": 4, "broken": 4, "discolored": 4, "silkcut": 4}
    assert result["predicted_distribution"]["one"] == {"pure": 6, "broken": 4, "discolored": 4, "silkcut": 2}
    gap = result["modality_gap"]
    assert gap["per_class"]["broken"] == pytest.approx(0, abs=1e-6)
    assert gap["per_class"]["silkcut"] > 0.5  # its images half sit elsewhere
    np.testing.assert_allclose(result["text_similarity"], np.eye(4), atol=1e-6)
    assert result["image_centroid_similarity"][0][3] > 0.4  # silkcut's centroid leans towards pure
    assert len(result["margins"]["correct"]) == 14 and len(result["margins"]["wrong"]) == 2
    assert sum(result["reliability"]["bin_count"]) == 16
    assert result["best_prompt_set"] == "one" and result["n_eval"] == 16


def test_autopsy_stores_each_templates_answers_and_the_reading_states_the_collapse_from_them():
    """A planted collapse: template "b {}" puts *pure* nearest to every image. Its accuracy (4 of 16)
    equals every class's share, so only its stored answers can say which class it collapses onto."""
    from analysis.present import explain

    unit = np.eye(8, dtype=np.float32)
    labels = ["pure"] * 4 + ["broken"] * 4 + ["discolored"] * 4 + ["silkcut"] * 4
    images = pd.DataFrame({"image_id": [f"i{n}" for n in range(16)], "label": labels, "split": ["eval"] * 16})
    vectors = np.stack([unit[CLASSES.index(label)] for label in labels])
    collapsed = np.stack([unit[:4].sum(axis=0) / 2, unit[5], unit[6], unit[7]])  # pure: cosine 0.5 to every image
    texts = [np.stack([unit[index], collapsed[index]]) for index in range(4)]
    embedded = zeroshot.PromptEmbeddings(zeroshot.PromptSet("two", ("a {}", "b {}")), CLASSES, texts, 100.0)
    result = zeroshot.autopsy("M:w", "M", "w", images, vectors, [embedded], CLASSES, {"two": "zeroshot:M:w:two"}, "M:w")
    by_template = {row["template"]: row for row in result["templates"]}
    expected = np.asarray(CLASSES)[np.argmax(vectors @ collapsed.T, axis=1)]  # the answers, computed here
    assert by_template["b {}"]["predicted"] == {name: int((expected == name).sum()) for name in CLASSES}
    assert by_template["b {}"]["predicted"]["pure"] == 16 and by_template["b {}"]["accuracy"] == 0.25
    reading = explain.read_templates(result["templates"], result["true_distribution"])
    assert "1 of 2 give (almost) one answer to every image: 1 answers *pure* for 100% of the images" in reading


# --- the stage, end to end -----------------------------------------------------------------------

def test_demo_bundle_has_zero_shot_autopsy_and_map(demo_bundle):
    opened = bundle.open_bundle(demo_bundle)
    key = "CornLens-Tiny:random"
    sets = [prompt_set.name for prompt_set in zeroshot.prompt_sets()]
    records = opened.approaches_of_kind("zeroshot")
    assert [record["prompt_set"] for record in records] == sets
    images = opened.images()
    for record in records:
        assert record["id"] == f"zeroshot:{key}:{record['prompt_set']}" and record["model"] == "CornLens-Tiny"
        assert record["params"]["templates"] and set(record["params"]["classnames"]) == set(opened.classes)
        predictions = opened.predictions(record["id"])
        assert set(predictions["image_id"]) == set(images["image_id"])
    diagnostics = opened.diagnostics(f"autopsy:{key}")
    assert AUTOPSY_KEYS <= set(diagnostics)
    assert {entry["approach_id"] for entry in diagnostics["prompt_sets"]} == {record["id"] for record in records}
    accuracy = {record["prompt_set"]: record["metrics"]["accuracy"] for record in records}
    assert {entry["name"]: entry["accuracy"] for entry in diagnostics["prompt_sets"]} == pytest.approx(accuracy)
    assert len([t for t in diagnostics["templates"] if t["prompt_set"] == "openai-imagenet"]) == 80
    assert opened.embeddings(key).shape[0] == len(images)
    assert opened.manifest["embeddings"][f"{key}:features"]["kind"] == "clip_features"
    mapped = opened.projection(diagnostics["projection"])
    assert set(mapped.columns) >= set(projection.COLUMNS) | {"prompt_set"}
    assert (mapped["kind"] == "image").sum() == len(images)
    texts = mapped[mapped["kind"] == "text"]
    assert len(texts) == len(sets) * len(opened.classes) and texts["image_id"].isna().all()
    assert np.isfinite(mapped[["x", "y"]].to_numpy()).all()


def test_user_prompts_through_the_cli(synthetic_data, tmp_path, monkeypatch):
    monkeypatch.setattr(projection, "MIN_IMAGES_FOR_UMAP", 10**9)  # a PCA plane: this test is about prompts
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(ISSUE_EXAMPLE))
    out = tmp_path / "b"
    assert commands.main(["run", "--data", str(synthetic_data), "--out", str(out), "--clip", "CornLens-Tiny:random",
                     "--prompts", str(path), "--no-baselines", "--cache-dir", str(tmp_path / "cache"), "-q"]) == 0
    record = bundle.open_bundle(out).approach("zeroshot:CornLens-Tiny:random:mine")
    assert record["prompt_set"] == "mine" and record["params"]["classnames"]["silkcut"] == "kernel with a thin silk cut"
    assert record["params"]["descriptions"] == {"broken": ["a corn kernel with a piece missing"]}


def test_bad_prompt_file_fails_before_the_data_is_read(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"name": "x", "templates": ["no placeholder"]}))
    assert commands.main(["run", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "b"), "--clip",
                     "CornLens-Tiny:random", "--prompts", str(path)]) == 1
    error = capsys.readouterr().err
    assert str(path) in error and "exactly one {}" in error and "Traceback" not in error
