"""The dense gallery, its details (neighbours, tags) and the text-search page under AppTest."""

from __future__ import annotations

import shutil

import pytest

from analysis.core import bundle, tags
from analysis.stats import neighbours
from tests.apptest import card_ids, card_thumbnails, gallery_cards, open_card, open_page, shown_text
from tests.test_dashboard import full_bundle  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("empty_results")

SPACE = "CornLens-Tiny:random"


@pytest.fixture
def demo_copy(demo_bundle, tmp_path):
    """A copy of the demo bundle that a test may tag."""
    folder = tmp_path / "bundle"
    shutil.copytree(demo_bundle, folder)
    return folder


def test_density_controls_change_cards_per_page(full_bundle):
    app = open_page(full_bundle, "views/gallery.py", gallery_per_page=96, gallery_per_row=12, gallery_only_wrong=False)
    assert len(card_thumbnails(app)) == 96 and len(card_ids(app)) == 96
    app.session_state["gallery_per_page"] = 24
    app.run()
    assert len(card_thumbnails(app)) == 24


def test_details_show_the_neighbours_and_their_vote(demo_copy):
    app = open_page(demo_copy, "views/gallery.py")
    image_id = card_ids(app)[0]
    open_card(app, image_id)
    assert not app.exception, [e.value for e in app.exception]
    text = shown_text(app)
    opened = bundle.open_bundle(demo_copy)
    index = neighbours.build_index(SPACE, opened.embeddings(SPACE), opened.images())
    found = neighbours.neighbours_of(index, image_id, 10)
    assert neighbours.vote(found, opened.classes).sentence() in text
    assert any(said in text for said in ("the neighbours agree", "the neighbours say", "the neighbours give no vote"))
    for neighbour in found["image_id"]:
        assert neighbour in text
    assert len(card_thumbnails(app)) == len(card_ids(app))
    assert len(app.image) >= 1 + 10  # the picture, ten neighbours
    # The ConvNeXt space (a widget inside a dialog reruns only the dialog in a browser, which AppTest
    # does not do: the choice is made before the dialog opens here).
    app.session_state["full_view_space"] = "convnext_atto"
    open_card(app, image_id)
    found = neighbours.neighbours_of(neighbours.build_index("convnext_atto", opened.embeddings("convnext_atto"),
                                                            opened.images()), image_id, 10)
    assert neighbours.vote(found, opened.classes).sentence() in shown_text(app)
    assert all(neighbour in shown_text(app) for neighbour in found["image_id"])


def test_tags_are_saved_filter_the_gallery_and_export(demo_copy):
    app = open_page(demo_copy, "views/gallery.py")
    first, second = card_ids(app)[:2]
    for image_id, given in ((first, ["label wrong"]), (second, ["ambiguous", "bad photo"])):
        open_card(app, image_id)
        app.pills(key=f"full_view_tags_{image_id}").set_value(given).run()
        assert not app.exception, [e.value for e in app.exception]
    saved = tags.read_tags(demo_copy)
    assert tags.tags_of(saved, first) == ["label wrong"] and tags.tags_of(saved, second) == ["ambiguous", "bad photo"]
    app = open_page(demo_copy, "views/gallery.py", gallery_tagged=["label wrong"])  # a fresh session: a reload
    assert card_ids(app) == [first]
    assert gallery_cards(app)[0]["tags"] == "label wrong"  # the card shows its tag
    export = app.get("download_button")[0]
    assert export.proto.label == "Export tags (2)"


def test_compare_cards_open_the_neighbours(demo_bundle):
    app = open_page(demo_bundle, "views/compare.py")
    open_card(app, card_ids(app)[0], "compare")
    assert not app.exception, [e.value for e in app.exception]
    assert "nearest training images are" in shown_text(app)


def test_search_page_ranks_images_for_a_phrase(demo_bundle):
    app = open_page(demo_bundle, "views/search.py")
    assert app.title[0].value == "Text search"
    assert "Type a phrase" in shown_text(app)
    app.text_input(key="search_phrase").input("a broken corn kernel").run()
    assert not app.exception, [e.value for e in app.exception]
    text = shown_text(app)
    assert "most similar to “a broken corn kernel”" in text
    assert "random direction" in text  # the demo's text tower has random weights: mechanics, not a finding
    assert len(app.image) == 24
    assert len(app.dataframe[0].value) == 4  # one row per class


def test_search_page_says_so_when_the_towers_process_has_stopped_and_loads_it_again(demo_bundle):
    from analysis.models import texttower
    from dashboard import loaders

    app = open_page(demo_bundle, "views/search.py")
    app.text_input(key="search_phrase").input("a broken corn kernel").run()
    assert "most similar to “a broken corn kernel”" in shown_text(app)
    tower = loaders.tower_loading(texttower.recorded_source(bundle.open_bundle(demo_bundle).manifest, SPACE), "").result()
    tower.process.kill()  # killed for memory, say
    tower.process.wait()
    app.text_input(key="search_phrase").input("a silk cut").run()
    assert not app.exception, [e.value for e in app.exception]
    text = shown_text(app)
    assert "Text search is not available for this bundle here" in text and "process has stopped" in text
    app.button(key="search_retry").click().run()
    assert not app.exception and "most similar to “a silk cut”" in shown_text(app)


def test_a_checkpoint_rewritten_in_place_loads_again(demo_copy, empty_results, monkeypatch):
    """The server keeps one text tower per model, but a checkpoint file rewritten in place (a user
    retrained) is new weights: the next search loads them instead of answering with the old ones.
    (The tower's process is stood in for here: that it loads a checkpoint's weights is
    ``test_texttower``'s.)"""
    import os

    from analysis.models import texttower, tower_process
    from dashboard import loaders

    loaded = []
    monkeypatch.setattr(tower_process, "start", lambda source, weights_file, allowed_roots: loaded.append(
        (source.pretrained, checkpoint.read_bytes())) or object())
    checkpoint = empty_results / "tiny.pt"

    def save(weights: bytes, mtime: int) -> None:
        checkpoint.write_bytes(weights)
        os.utime(checkpoint, (mtime, mtime))  # a coarse file system's clock could not tell the two saves apart

    save(b"first weights", 1_700_000_000)
    bundle.update_manifest(demo_copy, lambda manifest: manifest["embeddings"][SPACE].update(pretrained=str(checkpoint)))
    source = texttower.recorded_source(bundle.open_bundle(demo_copy).manifest, SPACE)
    first = loaders.text_tower(source, "")
    assert loaders.text_tower(source, "") is first  # unchanged: one load
    save(b"other weights", 1_700_000_100)
    assert loaders.text_tower(source, "") is not first
    assert loaded == [(str(checkpoint), b"first weights"), (str(checkpoint), b"other weights")]
    loaders.forget_towers()


def test_search_page_says_which_file_to_pass_when_weights_are_absent(demo_bundle, tmp_path):
    folder = tmp_path / "bundle"
    shutil.copytree(demo_bundle, folder)
    checkpoint = tmp_path / "gone" / "tiny.pt"

    def elsewhere(manifest: dict) -> None:
        manifest["embeddings"][SPACE]["pretrained"] = str(checkpoint)

    bundle.update_manifest(folder, elsewhere)
    app = open_page(folder, "views/search.py")  # the tower loads in the background: searching waits for it
    app.text_input(key="search_phrase").input("a broken corn kernel").run()
    text = shown_text(app)
    assert "Text search is not available for this bundle here" in text
    assert f"checkpoint file {checkpoint}, which is not on this machine" in text
    assert "The rest of the dashboard does not need these weights" in text
    app.switch_page("views/gallery.py").run()  # the rest of the dashboard is unaffected
    assert not app.exception and app.title[0].value == "Misclassified gallery"
