"""A dashboard that stays fast at 100,000 images (issue 12): the Embedding map draws every image on
its canvas, maps inside other pages and the report draw a sample and say so."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.core import bundle
from analysis.present import figures, map_canvas_data, map_views, report
from tests.apptest import map_canvases, open_page

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from large_bundle import write_large_bundle  # noqa: E402

N_IMAGES = 600
pytestmark = pytest.mark.usefixtures("empty_results")


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scale") / "bundle"
    write_large_bundle(folder, n_images=N_IMAGES, seed=3)
    return folder


def chart_specs(app) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def image_points(spec: dict) -> int:
    """Image points drawn by a plotly map's WebGL traces (``x`` sent as a base64 array of ``dtype``)."""
    def length(values) -> int:
        if isinstance(values, dict):  # plotly's binary form
            return len(base64.b64decode(values["bdata"])) // np.dtype(values["dtype"]).itemsize
        return len(values or [])
    return sum(length(trace.get("x")) for trace in spec["data"] if trace["type"] == "scattergl")


def test_thinned_keeps_each_class_share_and_every_class_prompt():
    points = pd.DataFrame({"image_id": [f"i{n}" for n in range(1000)] + [None, None],
                           "label": ["pure"] * 800 + ["broken"] * 200 + ["pure", "broken"],
                           "kind": ["image"] * 1000 + ["text"] * 2, "x": 0.0, "y": 0.0})
    thin = map_views.thinned(points, limit=100)
    images = thin[thin["kind"] == "image"]
    assert images["label"].value_counts().to_dict() == {"pure": 80, "broken": 20}
    assert (thin["kind"] == "text").sum() == 2 and thin.index.is_monotonic_increasing
    assert map_views.thinned(points, limit=5000) is points
    note = map_views.thinning_note(thin, 1000)
    assert "draws 100 of the 1,000 images" in note and "10.0% of each class" in note
    assert map_views.thinning_note(points, 1000) == ""


def test_a_panel_map_reads_and_counts_every_image_while_drawing_a_sample(monkeypatch):
    from analysis.present import explain

    rng = np.random.default_rng(0)
    points = pd.DataFrame({"image_id": [f"i{n}" for n in range(1000)], "label": ["pure"] * 800 + ["broken"] * 200,
                           "kind": "image", "x": rng.normal(size=1000), "y": rng.normal(size=1000)})
    monkeypatch.setattr(map_views, "PANEL_MAP_POINTS", 100)
    drawn, counts, reading = map_views.panel_map(points)
    assert (drawn["kind"] == "image").sum() == 100 and counts == {"pure": 800, "broken": 200}
    assert reading.startswith(explain.read_projection(points)) and "draws 100 of the 1,000 images" in reading
    figure = figures.projection_figure(drawn, "label", ["pure", "broken"], counts=counts)
    assert sorted(trace.name for trace in figure.data) == ["broken (200)", "pure (800)"]  # the classes, not the sample
    assert all("click" not in trace.hovertemplate for trace in figure.data)  # nothing to click in a panel or report


def test_the_embedding_map_draws_every_image_on_its_canvas(large):
    canvases = map_canvases(open_page(large, "views/embedding_map.py"))
    assert len(canvases) == 1
    data = canvases[0]
    assert data["points"].num_rows == N_IMAGES  # every image, so that any of them can be selected
    assert data["points"].schema.field("x").type == "float" and sum(group["count"] for group in data["groups"]) == N_IMAGES
    assert data["version"] and data["selection"] is None


def test_a_canvas_row_is_the_row_a_selection_names():
    points = pd.DataFrame({"image_id": ["a", "b", "c", None], "kind": ["image"] * 3 + ["text"],
                           "label": ["pure", "broken", "pure", "pure"], "x": [0.0, 1, 2, 3], "y": 0.0,
                           "view": "top", "split": "eval", "prediction": ["broken", "broken", "pure", None],
                           "correctness": "correct"})
    data = map_canvas_data.map_canvas_data(points, "prediction", ["pure", "broken"])
    table = data["points"]
    assert table["x"].to_pylist() == [0.0, 1.0, 2.0]  # image rows in map order; the star is not a point
    names = [group["name"] for group in data["groups"]]
    assert [names[g] for g in table["g"].to_pylist()] == ["broken", "broken", "pure"]
    assert [data["true_names"][t] for t in table["t"].to_pylist()] == ["pure", "broken", "pure"]
    assert data["show_true"] and [star["label"] for star in data["stars"]] == ["pure"]
    selected = [{"customdata": 2}, {"customdata": [1]}, {"customdata": None}, {"customdata": 7}, {}]
    assert map_views.selected_ids(selected, points) == ["c", "b"]  # a star, a stale row: ignored
    assert map_views.selection_ids({"points": selected, "box": [], "lasso": []}, points) == ["c", "b"]


def test_the_outline_of_a_box_in_the_address():
    assert map_views.box_shape("1,0,3,2") == {"box": [0.0, 1.0, 2.0, 3.0]}
    assert map_views.box_shape("1,0,nan,2") is None and map_views.box_shape("no box") is None


def map_of(n_images: int, seed: int = 0) -> pd.DataFrame:
    """``tables.map_points``-like points: ``n_images`` images at random places, then two stars."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"image_id": [f"i{n}" for n in range(n_images)] + [None, None],
                         "kind": ["image"] * n_images + ["text"] * 2, "label": rng.choice(["pure", "broken"], n_images + 2),
                         "x": rng.uniform(-5, 5, n_images + 2), "y": rng.uniform(-5, 5, n_images + 2)})


def test_a_box_selects_every_image_inside_it():
    points = map_of(3000)
    box = {"xref": "x2", "yref": "y2", "x": [2.5, -1.0], "y": [0.5, -3.0]}  # corners in either order
    expected = [row.image_id for row in points.itertuples()
                if row.kind == "image" and -1.0 <= row.x <= 2.5 and -3.0 <= row.y <= 0.5]
    assert len(expected) > 300
    assert map_views.selection_ids({"points": [{"customdata": 0}], "box": [box], "lasso": []}, points) == expected
    second = {"x": [3.0, 4.0], "y": [3.0, 4.0]}
    expected_both = [row.image_id for row in points.itertuples() if row.kind == "image" and (
        (-1.0 <= row.x <= 2.5 and -3.0 <= row.y <= 0.5) or (3 <= row.x <= 4 and 3 <= row.y <= 4))]
    assert map_views.selection_ids({"box": [box, second]}, points) == expected_both  # shift-drag: the union


def test_a_lasso_selects_every_image_inside_its_path():
    points = map_of(3000, seed=1)
    corners = np.array([[-4.0, -4.0], [4.0, -3.0], [0.0, 4.0]])  # a triangle, drawn as plotly's lasso path

    def inside_triangle(x: float, y: float) -> bool:  # on the same side of every edge
        signs = []
        for i in range(3):
            (x0, y0), (x1, y1) = corners[i], corners[(i + 1) % 3]
            signs.append((x1 - x0) * (y - y0) - (y1 - y0) * (x - x0))
        return all(sign > 0 for sign in signs) or all(sign < 0 for sign in signs)

    lasso = {"xref": "x2", "yref": "y2", "x": corners[:, 0].tolist(), "y": corners[:, 1].tolist()}
    expected = [row.image_id for row in points.itertuples() if row.kind == "image" and inside_triangle(row.x, row.y)]
    assert len(expected) > 500
    assert map_views.selection_ids({"points": [], "box": [], "lasso": [lasso]}, points) == expected
    ring = np.linspace(0, 2 * np.pi, 200, endpoint=False)  # a many-sided lasso: a circle of radius 3 around (1, 1)
    circle = {"x": (1 + 3 * np.cos(ring)).tolist(), "y": (1 + 3 * np.sin(ring)).tolist()}
    chosen = set(map_views.selection_ids({"lasso": [circle]}, points))
    distance = np.hypot(points["x"] - 1, points["y"] - 1)
    images = points["kind"] == "image"
    assert set(points.loc[images & (distance < 2.99), "image_id"]) <= chosen <= set(points.loc[images & (distance < 3.0), "image_id"])
    assert map_views.in_polygon(np.array([0.0]), np.array([0.0]), [0, 1], [0, 1]).tolist() == [False]  # no area


def test_maps_on_other_pages_and_in_the_report_draw_a_sample_and_say_so(large, monkeypatch):
    monkeypatch.setattr(map_views, "PANEL_MAP_POINTS", 200)
    for name in ("views/autopsy.py", "views/convnext.py"):
        app = open_page(large, name)
        maps = [spec for spec in chart_specs(app) if image_points(spec)]
        assert maps and all(190 <= image_points(spec) <= 210 for spec in maps), name
        assert any(f"of the {N_IMAGES:,} images" in caption.value for caption in app.caption), name
    html = report.render_html(bundle.open_bundle(large))
    assert f"of the {N_IMAGES:,} images, the same random" in html


def test_rows_of_a_selection_are_looked_up_in_the_tables_own_id_index():
    table = pd.DataFrame({"image_id": pd.array(["a", "b", "c", "d"], dtype="string")})
    assert map_views.positions(table, ["c", "x", "a", "c"]).tolist() == [2, 0]  # ids order, unknown out, once each
    assert map_views.id_index(table) is map_views.id_index(table)  # built once while the table lives
    other = pd.DataFrame({"image_id": ["d", "c"]})
    assert map_views.positions(other, np.array(["c"], dtype=object)).tolist() == [1]
