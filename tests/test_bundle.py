"""Bundles round-trip; a damaged or too-new bundle gives one clear error type."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.core import bundle, records

CLASSES = ["pure", "broken"]


def small_bundle(path):
    images = pd.DataFrame({"image_id": ["a", "b", "c"], "path": ["a.png", "b.png", "c.png"],
                           "seed_id": ["1", "2", "3"], "view": ["top"] * 3, "label": ["pure", "broken", "pure"],
                           "split": ["train", "eval", "eval"], "fold": [0, -1, -1]})
    manifest = {"classes": CLASSES, "dataset": {"root": "/data", "fingerprint": "f"}, "split": {"seed": 0}}
    thumbs = pd.DataFrame({"image_id": ["a"], "jpeg": [b"\xff\xd8jpeg"]})
    created = bundle.create_bundle(path, manifest, images, thumbs)
    proba = np.array([[0.9, 0.1], [0.3, 0.7]])
    bundle.save_approach(path, {"id": "zs:ViT/B", "kind": "zeroshot", "model_key": "ViT/B", "prompt_set": "p",
                                "metrics": {"accuracy": 0.5}},
                         bundle.predictions_frame(["b", "c"], proba, CLASSES), {"per_prompt": [0.5]})
    bundle.save_embeddings(path, "ViT-B-32:openai", np.eye(3, 4, dtype=np.float32), model="ViT-B-32")
    bundle.save_projection(path, "ViT-B-32:openai", pd.DataFrame({"image_id": ["a"], "x": [0.0], "y": [1.0]}))
    return created, images


def test_round_trip(tmp_path):
    _, images = small_bundle(tmp_path / "b")
    opened = bundle.open_bundle(tmp_path / "b")
    assert opened.manifest["schema_version"] == bundle.SCHEMA_VERSION
    assert opened.classes == CLASSES
    pd.testing.assert_frame_equal(opened.images(), images)
    predictions = opened.predictions("zs:ViT/B")
    assert list(predictions.columns) == ["image_id", "pred_label", "prob_pure", "prob_broken", "margin"]
    assert predictions["pred_label"].tolist() == ["pure", "broken"]
    assert predictions["margin"].round(6).tolist() == [0.8, 0.4]
    assert opened.diagnostics("zs:ViT/B") == {"per_prompt": [0.5]}
    assert np.array_equal(opened.embeddings("ViT-B-32:openai"), np.eye(3, 4))
    assert opened.projection("ViT-B-32:openai")["y"].tolist() == [1.0]
    assert opened.thumbnails([opened.thumbnail_ids()[0]]) == {opened.thumbnail_ids()[0]: b"\xff\xd8jpeg"}


def test_replacing_an_approach_keeps_one_entry(tmp_path):
    small_bundle(tmp_path / "b")
    bundle.save_approach(tmp_path / "b", {"id": "zs:ViT/B", "kind": "zeroshot", "model_key": "ViT/B",
                                          "metrics": {"accuracy": 0.9}},
                         bundle.predictions_frame(["b"], np.array([[1.0, 0.0]]), CLASSES))
    opened = bundle.open_bundle(tmp_path / "b")
    assert [a["metrics"]["accuracy"] for a in opened.approaches] == [0.9]


def test_missing_bundle_and_missing_file(tmp_path):
    with pytest.raises(bundle.BundleError, match="no bundle folder"):
        bundle.open_bundle(tmp_path / "nowhere")
    small_bundle(tmp_path / "b")
    (tmp_path / "b" / "predictions" / "zs_ViT_B.parquet").unlink()
    with pytest.raises(bundle.BundleError, match=r"zs_ViT_B.parquet: file is missing"):
        bundle.open_bundle(tmp_path / "b")


def test_truncated_parquet(tmp_path):
    small_bundle(tmp_path / "b")
    images = tmp_path / "b" / "images.parquet"
    images.write_bytes(images.read_bytes()[:100])
    with pytest.raises(bundle.BundleError, match="images.parquet: cannot be read as Parquet"):
        bundle.open_bundle(tmp_path / "b")


def test_newer_schema_and_broken_manifest(tmp_path):
    small_bundle(tmp_path / "b")
    manifest_path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps(manifest | {"schema_version": bundle.SCHEMA_VERSION + 1}))
    with pytest.raises(bundle.BundleError, match="newer than this CornLens understands"):
        bundle.open_bundle(tmp_path / "b")
    manifest_path.write_text("{not json")
    with pytest.raises(bundle.BundleError, match="cannot be read as JSON"):
        bundle.open_bundle(tmp_path / "b")


def test_no_pickle_in_embeddings(tmp_path):
    small_bundle(tmp_path / "b")
    np.save(tmp_path / "b" / "embeddings" / "ViT-B-32_openai.npy", np.array([{"a": 1}], dtype=object),
            allow_pickle=True)
    with pytest.raises(bundle.BundleError, match="cannot be read"):
        bundle.open_bundle(tmp_path / "b").embeddings("ViT-B-32:openai")


def test_approach_records_are_typed_and_checked_when_read(tmp_path):
    small_bundle(tmp_path / "b")
    with pytest.raises(ValueError, match="needs its 'model_key'"):  # a writer's bug fails at once
        bundle.save_approach(tmp_path / "b", {"id": "probe:x", "kind": "probe", "metrics": {"accuracy": 0.9}},
                             bundle.predictions_frame(["b"], np.array([[1.0, 0.0]]), CLASSES))
    manifest_path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["approaches"][0]["metrics"]["accuracy"] = "half"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(bundle.BundleError, match=r"approach 'zs:ViT/B'.*'metrics'.accuracy: expected a number"):
        bundle.open_bundle(tmp_path / "b")
    del manifest["approaches"][0]["model_key"]
    manifest["approaches"][0]["metrics"]["accuracy"] = 0.5
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(bundle.BundleError, match="zeroshot approach needs its 'model_key'"):
        bundle.open_bundle(tmp_path / "b")


def test_diagnostics_are_checked_key_by_key_when_read(tmp_path):
    small_bundle(tmp_path / "b")
    bundle.save_approach(tmp_path / "b", {"id": "probe:ViT/B", "kind": "probe", "model_key": "ViT/B",
                                          "metrics": {"accuracy": 0.9}},
                         bundle.predictions_frame(["b", "c"], np.eye(2), CLASSES),
                         {"kshot": {"shots": [1, 2]}, "c_sweep": [{"C": 1.0, "cv_accuracy_mean": 0.5}], "blend": 3})
    found = bundle.open_bundle(tmp_path / "b").diagnostics("probe:ViT/B")
    assert found["c_sweep"] == [{"C": 1.0, "cv_accuracy_mean": 0.5}]  # a good key reads as it is
    with pytest.raises(bundle.BundleError, match=r"probe_ViT_B.json: 'kshot'.*lacks 'k', 'mean'"):
        found.get("kshot")
    with pytest.raises(bundle.BundleError, match="'blend': expected a list, found a number"):
        found["blend"]
    assert records.diagnostics_type("autopsy:ViT/B", bundle.open_bundle(tmp_path / "b").approaches) \
        is records.AutopsyDiagnostics
    bundle.save_diagnostics(tmp_path / "b", "agreement", ["not", "an", "object"])
    with pytest.raises(bundle.BundleError, match="agreement.json: expected a JSON object"):
        bundle.open_bundle(tmp_path / "b").diagnostics("agreement")
