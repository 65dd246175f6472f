"""Panels declared once (analysis.present.panels): the dashboard and the report draw the same figures with
the same readings, in the same order; data of another shape costs one panel, named."""

from __future__ import annotations

import pytest

from analysis.core import bundle, records
from analysis.present import explain, map_views, panels, report
from analysis.present.report.html import inline_markdown
from tests.apptest import open_page

pytestmark = pytest.mark.usefixtures("empty_results")


def readings(built: list[panels.Panel], with_figure: bool) -> list[str]:
    """Readings under a figure (``with_figure``; drawn as captions), or of words-only panels (markdown).
    A table panel's reading is a caption too, but the report writes it under the table, not as a figcaption."""
    return [panel.reading for panel in built if panel.reading and panel.table is None
            and (panel.figure is not None) == with_figure]


def in_order(wanted: list[str], shown: list[str]) -> bool:
    """``wanted`` appears in ``shown`` as a subsequence (same order, other texts in between)."""
    remaining = iter(shown)
    return all(any(text == item for item in remaining) for text in wanted)


def test_dashboard_and_report_show_the_same_readings(demo_bundle):
    opened = bundle.open_bundle(demo_bundle)
    source, builder = panels.BundleSource(opened), report.ReportBuilder(opened)
    (model, _), = records.best_per_model(opened.approaches, records.ZEROSHOT).items()  # the demo has one CLIP model
    pages = {
        "views/autopsy.py": ([(panels.AUTOPSY_PANELS, panels.autopsy_data(source, model)),
                              (panels.SHORTCUT_PANELS, panels.shortcut_data(source))],
                             builder.autopsy().body + builder.confounders().body),
        "views/probe.py": ([(panels.PROBE_PANELS, panels.probe_data(source, opened.approaches_of_kind("probe")[0]))],
                           builder.probe().body),
        "views/convnext.py": ([(panels.CONVNEXT_PANELS,
                                panels.convnext_data(source, opened.approaches_of_kind("finetune")[0]))],
                              builder.finetune().body),
    }
    for page, (page_panels, report_html) in pages.items():
        built = [panel for specs, data in page_panels for panel in panels.build_all(specs, data)]
        captions, texts = readings(built, with_figure=True), readings(built, with_figure=False)
        assert len(captions) >= 2 or page == "views/convnext.py", (page, captions)
        app = open_page(demo_bundle, page)
        assert in_order(captions, [element.value for element in app.caption]), page
        assert in_order(texts, [element.value for element in app.markdown]), page
        shown = [str(inline_markdown(text)) for text in captions + texts]
        assert all(text in str(report_html) for text in shown), page
        figure_readings = [str(inline_markdown(text)) for text in captions]
        positions = [str(report_html).index(f"<figcaption>{text}</figcaption>") for text in figure_readings]
        assert positions == sorted(positions), page


def test_every_page_builds_from_the_demo_bundle(demo_bundle):
    opened = bundle.open_bundle(demo_bundle)
    source = panels.BundleSource(opened)
    model = next(iter(records.best_per_model(opened.approaches, records.ZEROSHOT)))
    autopsy = panels.build_all(panels.AUTOPSY_PANELS, panels.autopsy_data(source, model))
    keys = [panel.key for panel in autopsy]
    assert keys[:6] == ["ladder", "attribution", "ladder_table", "alignment", "prompt_ladder",
                        "distribution"]  # the ladder first
    assert all((panel.figure is not None) != (panel.table is not None) for panel in autopsy)
    convnext = panels.build_all(panels.CONVNEXT_PANELS,
                                panels.convnext_data(source, opened.approaches_of_kind("finetune")[0]))
    weights = next(panel for panel in convnext if panel.key == "weights")
    assert "random initialisation" in weights.reading and weights.warning == explain.SCRATCH_WARNING


def test_data_of_another_shape_costs_its_panel_only(tmp_path):
    from tests.test_report import make_bundle

    opened = make_bundle(tmp_path / "b", ["pure", "broken"])
    record = opened.approaches_of_kind("probe")[0]
    bundle.save_diagnostics(opened.path, record["id"], {**opened.diagnostics(record["id"]),
                                                        "kshot": {"shots": [1, 2], "score": [0.3, 0.4]}})
    data = panels.probe_data(panels.BundleSource(bundle.open_bundle(opened.path)), record)
    kshot, c_sweep = panels.PROBE_PANELS[:2]
    with pytest.raises(bundle.BundleError, match="kshot"):
        panels.build(kshot, data)
    assert panels.build(c_sweep, data).figure is not None  # the others are drawn


def test_one_wording_for_a_comparison():
    assert explain.versus(0.412, 0.41) == "level with"
    assert explain.versus(0.30, 0.41) == "below" and explain.versus(0.50, 0.41) == "above"
    assert explain.difference(0.53, 0.41) == "12.0 points above"
    assert "level with the 41%" in explain.read_prompt_ladder(
        {"prompt_sets": [{"name": "simple", "accuracy": 0.412}]}, 0.41)


def test_rows_lay_out_headings_and_half_panels_as_both_adapters_draw_them():
    def panel(key: str, heading: str, half: bool = False) -> panels.Panel:
        return panels.Panel(key, key, heading, half=half)

    laid_out = panels.rows([panel("a", "H1"), panel("b", "H1", True), panel("c", "H1", True), panel("d", "H1", True),
                            panel("e", "H2", True), panel("f", "H2"), panel("g", "", True)])
    assert [(heading, [p.key for p in row]) for heading, row in laid_out] == [
        ("H1", ["a"]), ("", ["b", "c"]), ("", ["d"]), ("H2", ["e"]), ("", ["f"]), ("", ["g"])]


def test_a_page_reads_its_map_only_when_the_map_panel_is_built(demo_bundle):
    """The autopsy's and ConvNeXt's maps sit in closed sections: their page data reads no map points
    until the map's panel is built, and then the same points the report draws."""
    opened = bundle.open_bundle(demo_bundle)
    source = panels.BundleSource(opened)
    asked = []
    reads = source.map_points

    def counted(*args):
        asked.append(args)
        return reads(*args)

    source.map_points = counted
    (model, _), = records.best_per_model(opened.approaches, records.ZEROSHOT).items()
    data = panels.autopsy_data(source, model)
    network = panels.convnext_data(source, opened.approaches_of_kind("finetune")[0])
    assert data.map.available and network.map.available and not asked
    built = {panel.key: panel for panel in panels.build_all(panels.AUTOPSY_PANELS, data)}
    assert len(asked) == 1 and built["joint_map"].figure is not None and built["joint_map"].reading
    assert data.map.points is data.map.points and len(asked) == 1  # read once
    assert not map_views.PanelMap().available and map_views.PanelMap().points is None
