"""Tags beside the bundle: round trip, atomic rewrite, export, bad files."""

from __future__ import annotations

import io
import os
import shutil

import pandas as pd
import pytest

from analysis.core import bundle, tags


def test_tags_round_trip_and_export(tmp_path):
    assert tags.read_tags(tmp_path).empty
    tags.set_tags(tmp_path, "a", ["label wrong", "ambiguous"])
    tags.set_tags(tmp_path, "b", ["bad photo"])
    first = tags.read_tags(tmp_path)
    when = first.loc[(first["image_id"] == "a") & (first["tag"] == "label wrong"), "tagged"].iloc[0]
    assert when
    again = tags.set_tags(tmp_path, "a", ["label wrong"])  # "ambiguous" removed, "label wrong" keeps its time
    assert tags.tags_of(again, "a") == ["label wrong"]
    assert again.loc[again["image_id"] == "a", "tagged"].iloc[0] == when
    assert tags.tagged_ids(again, ["bad photo"]) == {"b"}
    assert tags.summary(again) == {"label wrong": 1, "bad photo": 1}
    images = pd.DataFrame({"image_id": ["a", "b", "c"], "path": ["train/a.png", "train/b.png", "test/c.png"],
                           "label": ["pure", "broken", None]})
    text = tags.export_csv(tags.read_tags(tmp_path), images)
    assert text.splitlines()[0] == "image_id,path,label,tag"
    exported = pd.read_csv(io.StringIO(text))
    assert exported.to_dict(orient="records") == [
        {"image_id": "a", "path": "train/a.png", "label": "pure", "tag": "label wrong"},
        {"image_id": "b", "path": "train/b.png", "label": "broken", "tag": "bad photo"}]
    tags.set_tags(tmp_path, "a", [])
    assert tags.tags_of(tags.read_tags(tmp_path), "a") == []
    assert not list(tmp_path.glob(".tags.csv.*"))  # no temporary file left behind


def test_tags_survive_a_rerun_of_the_pipeline_data_part(demo_bundle, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(demo_bundle, copy)
    image_id = bundle.open_bundle(copy).images()["image_id"].iloc[0]
    tags.set_tags(copy, image_id, ["ambiguous"])
    opened = bundle.open_bundle(copy)
    bundle.create_bundle(copy, {k: v for k, v in opened.manifest.items() if k in ("classes", "dataset", "split")},
                         opened.images())
    assert tags.tags_of(tags.read_tags(copy), image_id) == ["ambiguous"]


def test_a_damaged_tags_file_is_named(tmp_path):
    (tmp_path / tags.TAGS_FILE).write_text("who,what\n1,2\n")
    with pytest.raises(tags.TagError, match=r"tags.csv: missing column\(s\) image_id, tag"):
        tags.read_tags(tmp_path)
    (tmp_path / tags.TAGS_FILE).write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(tags.TagError, match="tags.csv"):
        tags.read_tags(tmp_path)


def test_a_failed_write_keeps_the_old_tags(tmp_path, monkeypatch):
    tags.set_tags(tmp_path, "a", ["ambiguous"])

    def broken_to_csv(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken_to_csv)
    with pytest.raises(tags.TagError, match="disk full"):
        tags.set_tags(tmp_path, "b", ["bad photo"])
    monkeypatch.undo()
    assert tags.read_tags(tmp_path)[["image_id", "tag"]].values.tolist() == [["a", "ambiguous"]]


def test_a_tags_file_that_links_out_or_is_a_fifo_is_refused(tmp_path):
    from tests.test_confinement import finishes

    outside = tmp_path / "outside.csv"
    outside.write_text("image_id,tag,tagged\nsecret,from elsewhere,\n")
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / tags.TAGS_FILE).symlink_to(outside)
    with pytest.raises(tags.TagError, match="tags.csv: a link to somewhere outside"):
        tags.read_tags(folder)
    with pytest.raises(tags.TagError, match="tags.csv: a link"):
        tags.set_tags(folder, "a", ["ambiguous"])
    assert "secret" in outside.read_text() and "ambiguous" not in outside.read_text()
    (folder / tags.TAGS_FILE).unlink()
    os.mkfifo(folder / tags.TAGS_FILE)
    refused = finishes(tags.read_tags, folder)
    assert isinstance(refused, tags.TagError) and "tags.csv: is a FIFO" in str(refused)


def test_two_sessions_tagging_at_once_lose_nothing(tmp_path):
    import threading

    def tag_many(prefix: str) -> None:
        for index in range(60):
            tags.set_tags(tmp_path, f"{prefix}{index}", ["ambiguous", "label wrong"] if index % 2 else ["bad photo"])

    sessions = [threading.Thread(target=tag_many, args=(prefix,)) for prefix in ("left-", "right-")]
    for session in sessions:
        session.start()
    for session in sessions:
        session.join()
    found = tags.read_tags(tmp_path)
    assert found["image_id"].nunique() == 120 and len(found) == 2 * (30 * 2 + 30)


def test_the_export_neutralises_formulas(tmp_path):
    tags.set_tags(tmp_path, "a", ["=HYPERLINK(\"http://evil.test\",\"x\")", "@SUM(1)"])
    images = pd.DataFrame({"image_id": ["a"], "path": ["-x.png"], "label": ["+pure"]})
    exported = pd.read_csv(io.StringIO(tags.export_csv(tags.read_tags(tmp_path), images)), dtype=str)
    assert sorted(exported["tag"]) == ["'=HYPERLINK(\"http://evil.test\",\"x\")", "'@SUM(1)"]
    assert set(exported["path"]) == {"'-x.png"} and set(exported["label"]) == {"'+pure"}
