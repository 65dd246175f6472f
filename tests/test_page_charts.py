"""Charts that scale to their data and say when they are degenerate; units on numbers; the ConvNeXt
page's hyper-parameters, "still improving" and per-view majority rate (issue 15)."""

from __future__ import annotations

import pandas as pd

from analysis.present import explain, figures, run_facts
from analysis.core import tables


def test_margin_axis_scales_to_the_margins():
    figure = figures.margin_figure({"correct": [0.02, 0.13], "wrong": [0.01, 0.05]})
    assert figure.layout.xaxis.range[1] < 0.15 and figure.data[0].xbins.end < 0.15
    assert "all below 0.13" in figure.layout.title.text and "zoomed" in figure.layout.xaxis.title.text
    assert "every margin is 0" in figures.margin_figure({"correct": [0.0, 0.0], "wrong": [0.0]}).layout.title.text
    assert figures.margin_figure({"correct": [0.9, 0.2], "wrong": [0.1]}).layout.xaxis.range[1] == 1.0


def test_one_calibration_bin_is_said_plainly():
    reliability = {"bin_confidence": [None, 0.26, None], "bin_accuracy": [None, 0.41, None], "bin_count": [0, 2865, 0],
                   "ece": 0.15}
    notes = [a.text for a in figures.reliability_figure(reliability).layout.annotations]
    assert any("one bin" in text and "2865" in text for text in notes)
    assert "cannot show how confidence tracks accuracy" in explain.read_reliability(reliability)


def test_comparison_bars_keep_long_names_apart():
    records = [{"id": f"a{i}", "kind": "probe", "model": "convnext_large_mlp.clip_laion2b_soup_ft_in12k_in1k_384",
                "pretrained": f"p{i}", "metrics": {"accuracy": 0.5, "balanced_accuracy": 0.4, "macro_f1": 0.3}}
               for i in range(6)]
    figure = figures.metrics_comparison_figure(tables.metrics_table(records))
    assert figure.data[0].orientation == "h"
    assert all(len(line) <= 28 for label in figure.data[0].y for line in label.split("<br>"))
    assert figure.layout.height > figures.metrics_comparison_figure(tables.metrics_table(records[:2])).layout.height


def test_wall_times_carry_units():
    assert [tables.duration_text(v) for v in (0.0, 0.42, 12, 95, 2400, 9000, None)] == \
        ["< 0.1 s", "0.4 s", "12 s", "95 s", "40.0 min", "2.5 h", ""]
    shown = tables.headline_display(tables.headline_table({"approaches": [
        {"id": "probe:M", "kind": "probe", "model": "M", "metrics": {"accuracy": 0.7}, "wall_time_s": 2400}]}))
    assert shown["wall time"].iloc[0] == "40.0 min"


def test_convnext_facts():
    table = run_facts.hyperparameter_table({"epochs": 8, "image_size": 48, "learning_rate": 0.002, "tta": False,
                                            "nested": {"x": 1}})
    assert table.to_dict(orient="records") == [{"setting": "epochs asked", "value": "8"},
                                               {"setting": "image size", "value": "48 px"},
                                               {"setting": "learning rate", "value": "0.002"},
                                               {"setting": "test-time augmentation", "value": "off"}]
    epochs = [{"epoch": 1, "val_accuracy": 0.4}, {"epoch": 2, "val_accuracy": 0.5}]
    assert run_facts.still_improving(epochs, 2) and not run_facts.still_improving(epochs, 1)
    assert not run_facts.still_improving(epochs[:1], 1)
    assert "still improving" in explain.read_training({"epochs": epochs, "best_epoch": 2})
    images = pd.DataFrame({"view": ["top", "top", "bottom", "bottom", "top"], "label": ["pure", "broken", "pure", "pure",
                                                                                       "pure"],
                           "split": ["eval", "eval", "eval", "eval", "train"]})
    assert run_facts.majority_rate_by_view(images, "pure") == {"bottom": 1.0, "top": 0.5}
    record = {"id": "finetune:x", "kind": "finetune", "metrics": {"accuracy_by_view": {"top": 0.8, "bottom": 0.7}}}
    figure = figures.accuracy_by_view_figure([record], {"finetune:x": "x"}, {"top": 0.5, "bottom": 1.0})
    assert [trace.name for trace in figure.data] == ["x", "always the majority class"]
    assert list(figure.data[0].text) == ["70.0%", "80.0%"] and list(figure.data[1].y) == [1.0, 0.5]
