"""Thumbnails are read by id: only the row groups holding the requested images, never the whole table."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis.core import bundle, thumbnail_index
from analysis.core.bundle import BundleError

N_IMAGES = 1000


def thumbnail_bundle(path, thumbnails: pd.DataFrame | None = None):
    """A bundle of N_IMAGES images whose thumbnails are distinct byte strings."""
    ids = [f"train/{index:05d}.png" for index in range(N_IMAGES)]
    images = pd.DataFrame({"image_id": ids, "path": ids, "seed_id": ids, "view": "top", "label": "pure",
                           "split": "train", "fold": 0})
    if thumbnails is None:
        thumbnails = pd.DataFrame({"image_id": ids, "jpeg": [f"jpeg of {image_id}".encode() for image_id in ids]})
    manifest = {"classes": ["pure", "broken"], "dataset": {"root": str(path) + "-images", "fingerprint": "f"},
                "split": {"seed": 0}}
    return bundle.create_bundle(path, manifest, images, thumbnails)


@pytest.fixture
def groups_read(monkeypatch):
    """Every row group read from a Parquet file, as (file, group) pairs."""
    read: list[tuple[str, int]] = []
    original = pq.ParquetFile.read_row_groups

    def spy(self, row_groups, *args, **kwargs):
        read.extend((self, group) for group in row_groups)
        return original(self, row_groups, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", spy)
    return read


def test_written_in_small_row_groups_without_jpeg_statistics(tmp_path):
    thumbnail_bundle(tmp_path / "b")
    metadata = pq.ParquetFile(tmp_path / "b" / bundle.THUMBNAILS).metadata
    assert metadata.num_row_groups == -(-N_IMAGES // thumbnail_index.ROW_GROUP_ROWS)
    jpeg = metadata.schema.names.index("jpeg")
    assert not metadata.row_group(0).column(jpeg).is_stats_set  # JPEG bytes as min/max would bloat the footer


def test_returns_exactly_the_requested_ids_and_reads_only_their_row_groups(tmp_path, groups_read):
    opened = thumbnail_bundle(tmp_path / "b")
    wanted = ["train/00003.png", "train/00700.png", "train/00701.png", "train/00003.png", "not/an/image.png"]
    found = opened.thumbnails(wanted)
    assert found == {image_id: f"jpeg of {image_id}".encode() for image_id in wanted[:3]}
    size = thumbnail_index.ROW_GROUP_ROWS
    assert sorted({group for _, group in groups_read}) == [3 // size, 700 // size]  # 700 and 701 share a group
    assert len(groups_read) * size < N_IMAGES / 5  # the other images' thumbnails were never decoded


def test_ids_and_an_empty_request(tmp_path, groups_read):
    opened = thumbnail_bundle(tmp_path / "b")
    assert opened.thumbnail_ids() == [f"train/{index:05d}.png" for index in range(N_IMAGES)]
    assert opened.thumbnails([]) == {} and opened.thumbnails(["unknown"]) == {}
    assert groups_read == []


def test_a_file_in_one_row_group_and_repeated_ids_still_read_right(tmp_path):
    opened = thumbnail_bundle(tmp_path / "b")
    thumbs = pd.DataFrame({"image_id": ["a", "b", "a", None], "jpeg": [b"first a", b"b", b"second a", b"none"]})
    bundle.write_parquet(opened.path / bundle.THUMBNAILS, thumbs)  # pyarrow's default: one row group
    reopened = bundle.open_bundle(opened.path)
    assert reopened.thumbnails(["a", "b", "c"]) == {"a": b"first a", "b": b"b"}
    assert reopened.thumbnail_ids() == ["a", "b"]


def test_a_bundle_without_thumbnails_has_none(tmp_path):
    opened = thumbnail_bundle(tmp_path / "b")
    (opened.path / bundle.THUMBNAILS).unlink()
    reopened = bundle.open_bundle(opened.path)
    assert reopened.thumbnails(["train/00001.png"]) == {} and reopened.thumbnail_ids() == []


@pytest.mark.parametrize("content", [b"not parquet at all", None])
def test_a_damaged_thumbnails_file_is_a_bundle_error_naming_it(tmp_path, content):
    opened = thumbnail_bundle(tmp_path / "b")
    path = opened.path / bundle.THUMBNAILS
    if content is None:  # a Parquet file without the jpeg column
        bundle.write_parquet(path, pd.DataFrame({"image_id": ["a"]}))
    else:
        path.write_bytes(content)
    with pytest.raises(BundleError, match="thumbnails.parquet"):
        bundle.open_bundle(opened.path).thumbnails(["a"])


def test_a_thumbnails_link_out_of_the_bundle_is_refused(tmp_path):
    opened = thumbnail_bundle(tmp_path / "b")
    outside = thumbnail_bundle(tmp_path / "other").path / bundle.THUMBNAILS
    (opened.path / bundle.THUMBNAILS).unlink()
    (opened.path / bundle.THUMBNAILS).symlink_to(outside)
    with pytest.raises(BundleError, match="outside the bundle"):
        bundle.open_bundle(opened.path)


def test_a_thumbnail_travels_as_a_data_uri_of_its_own_bytes():
    import base64
    import io

    from PIL import Image

    for image_format, mime in (("JPEG", "image/jpeg"), ("PNG", "image/png")):
        buffer = io.BytesIO()
        Image.new("RGB", (8, 6), (200, 30, 40)).save(buffer, format=image_format)
        uri = thumbnail_index.data_uri(buffer.getvalue())
        head, _, body = uri.partition(",")
        assert head == f"data:{mime};base64"
        assert base64.b64decode(body) == buffer.getvalue()
