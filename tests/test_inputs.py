"""Done means made from the same inputs: the runner reruns a unit whose inputs changed, and says why."""

from __future__ import annotations

import dataclasses
import logging
import types
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from analysis.core import bundle, jsonfile
from analysis.stages import runner
from analysis.stages.context import RunContext, Stage


def test_why_run_names_the_parts_that_changed():
    same = {"data": "1", "model": "2", "prompt sets": "3"}
    assert runner.why_run(same, dict(same), force=False) is None
    assert runner.why_run(same, dict(same), force=True) == "--force"
    assert runner.why_run(same, {**same, "prompt sets": "x"}, force=False) == "the prompt sets changed"
    assert runner.why_run(same, {**same, "model": "x", "prompt sets": "x"}, force=False) == \
        "the model and the prompt sets changed"
    assert runner.why_run(same, {"data": "x", "model": "x", "prompt sets": "x"}, force=False) == \
        "the data, the model and the prompt sets changed"
    assert runner.why_run({"data": "1"}, {"data": "1", "wordings": "w"}, force=False) == "the wordings changed"
    assert runner.why_run(None, same, force=False) == "the bundle does not record what it was made from"
    assert runner.why_run(None, {}, force=False) is None  # a stage that declares no inputs


def test_digest_reads_values_not_their_order():
    assert jsonfile.digest({"a": 1, "b": [1, 2]}) == jsonfile.digest({"b": [1, 2], "a": 1})
    assert jsonfile.digest({"a": 1, "b": [1, 2]}) != jsonfile.digest({"a": 1, "b": [2, 1]})
    assert len(jsonfile.digest("x")) == 16


@dataclass(frozen=True)
class CountOptions:
    seed: int


def small_context(path, seed: int = 0, force: bool = False) -> RunContext:
    images = pd.DataFrame({"image_id": list("abcd"), "path": list("abcd"), "seed_id": list("1234"), "view": ["top"] * 4,
                           "label": ["x", "y", "x", "y"], "split": ["train", "train", "eval", "eval"],
                           "fold": [0, 1, -1, -1]})
    if not (path / bundle.MANIFEST).is_file():
        bundle.create_bundle(path, {"classes": ["x", "y"], "dataset": {"root": str(path), "fingerprint": "f"},
                                    "split": {"seed": 0}}, images)
    options = runner.RunOptions(data=path, out=path, seed=seed, force=force, show_progress=False)
    return RunContext(options, types.SimpleNamespace(classes=["x", "y"]), images, path)


def counting_stage(calls: list) -> Stage:
    def run(context, options, unit):
        calls.append((unit, options.seed))
        context.save_diagnostics(f"count:{unit}", {"seed": options.seed})

    return Stage("count", "counts its runs", CountOptions, run, units=lambda context, options: ["one", "two"],
                 done=lambda context, options, unit: context.bundle().has_diagnostics(f"count:{unit}"),
                 inputs=lambda context, options, unit: {"options": {"seed": options.seed}})


def test_a_unit_runs_again_when_its_inputs_change_and_the_log_says_why(tmp_path, caplog):
    calls: list = []
    stage = counting_stage(calls)
    runner.run_stage(stage, small_context(tmp_path))
    assert calls == [("one", 0), ("two", 0)]
    recorded = bundle.read_manifest(tmp_path)["inputs"]["count"]
    assert recorded["one"] == {"options": jsonfile.digest({"seed": 0})} == recorded["two"]

    with caplog.at_level(logging.INFO, logger="analysis.stages.runner"):
        runner.run_stage(stage, small_context(tmp_path))
    assert calls == [("one", 0), ("two", 0)]  # same inputs: nothing runs
    assert "count: one already in the bundle; skipped" in caplog.text

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="analysis.stages.runner"):
        runner.run_stage(stage, small_context(tmp_path, seed=1))
    assert calls[2:] == [("one", 1), ("two", 1)]
    assert "count: one: the options changed; recomputing" in caplog.text
    assert bundle.read_manifest(tmp_path)["inputs"]["count"]["one"] == {"options": jsonfile.digest({"seed": 1})}

    runner.run_stage(stage, small_context(tmp_path, seed=1, force=True))
    assert calls[4:] == [("one", 1), ("two", 1)]  # --force: decided by the runner, for every unit


def test_a_bundle_that_records_no_inputs_is_recomputed_once(tmp_path, caplog):
    calls: list = []
    stage = counting_stage(calls)
    runner.run_stage(stage, small_context(tmp_path))
    bundle.update_manifest(tmp_path, lambda manifest: manifest.pop("inputs"))  # as a bundle of an older version
    with caplog.at_level(logging.INFO, logger="analysis.stages.runner"):
        runner.run_stage(stage, small_context(tmp_path))
    assert len(calls) == 4 and "the bundle does not record what it was made from; recomputing" in caplog.text
    runner.run_stage(stage, small_context(tmp_path))
    assert len(calls) == 4


def test_every_approach_records_the_inputs_of_its_unit(tmp_path):
    context = small_context(tmp_path)

    def run(context, options, unit):
        context.save_approach("baseline", ["c", "d"], np.array([[0.6, 0.4], [0.4, 0.6]]), model_key="even")

    stage = Stage("even", "one approach", CountOptions, run, inputs=lambda c, o, u: {"options": {"seed": o.seed}})
    runner.run_stage(stage, context)
    record = bundle.open_bundle(tmp_path).approach("baseline:even")
    assert record["inputs"] == {"options": jsonfile.digest({"seed": 0})}
    assert context.inputs == {}  # cleared after the unit


@pytest.mark.parametrize("stage_name", ["baselines", "zeroshot", "probe", "finetune", "ladder"])
def test_every_stage_with_a_done_rule_declares_its_inputs(stage_name):
    from analysis.stages.context import _no_inputs
    from analysis.stages.registry import stage

    assert stage(stage_name).inputs is not _no_inputs


KEY = "CornLens-Tiny:random"
# The demo's random-weight CLIP answers almost always one class, so which set wins is near chance:
# the test asks that every reader names the same one, whichever it is, and that the stages that
# choose among the sets ran again.
MINE = {"name": "mine", "templates": ["picture {}"], "classnames": {"pure": "corn pure"}}


def chosen_prompt_sets(path) -> dict[str, str]:
    """Where a reader meets "the chosen prompt set": the zero-shot records (every page's pickers and
    tables), the autopsy and its reading, the probe's blend, the ladder, and both reports."""
    import re

    from analysis.core import records
    from analysis.present import explain, report

    opened = bundle.open_bundle(path)
    autopsy = opened.diagnostics(f"autopsy:{KEY}")
    ladder = opened.diagnostics(f"ladder:{KEY}")
    found = {"records": records.best_per_model(opened.approaches, records.ZEROSHOT)[KEY]["prompt_set"],
             "autopsy": autopsy["best_prompt_set"],
             "autopsy reading": re.search(r"chosen on the training images, \*([^*]+)\*",
                                          explain.read_prompt_ladder(autopsy)).group(1),
             "probe": opened.approach(opened.diagnostics(f"probe:{KEY}")["zeroshot_approach"])["prompt_set"],
             "ladder": ladder["prompt_choice"]["prompt_set"],
             "ladder rung": opened.approach(ladder["rungs"][0]["approach_id"])["prompt_set"]}
    for name, text in (("markdown", report.render_markdown(opened)), ("html", report.render_html(opened))):
        named = set(re.findall(r"prompt set ([\w.-]+) \(best on the training images\)", text))
        named |= set(re.findall(r"chosen on the training images, (?:\*|<em>)([^*<]+)(?:\*|</em>)", text))
        assert named, f"the {name} report names no chosen prompt set"
        found |= {f"{name} report: {value}": value for value in named}
    return found


def test_a_prompt_file_added_to_a_finished_bundle_gives_one_chosen_set_everywhere(demo_bundle, tmp_path, caplog):
    import json
    import shutil

    from analysis.cli import demo

    out = tmp_path / "bundle"
    shutil.copytree(demo_bundle, out)
    prompts = tmp_path / "mine.json"
    prompts.write_text(json.dumps(MINE))
    options = runner.RunOptions(data=demo.demo_data_folder(demo_bundle), out=out, seed=0, demo=True,
                                show_progress=False, prompts=[prompts], **(demo.DEMO_OPTIONS | demo.TEST_OVERRIDES))
    with caplog.at_level(logging.INFO, logger="analysis.stages.runner"):
        runner.run(options)
    for stage in ("zeroshot", "probe", "ladder"):
        assert f"{stage}: {KEY}: the prompt sets changed; recomputing" in caplog.text, stage
    assert "finetune: convnext_atto already in the bundle; skipped" in caplog.text  # not downstream: kept
    assert "baselines: baselines already in the bundle; skipped" in caplog.text
    found = chosen_prompt_sets(out)
    assert len(set(found.values())) == 1, found
    opened = bundle.open_bundle(out)
    assert opened.approach(f"zeroshot:{KEY}:mine")["params"]["templates"] == MINE["templates"]
    assert opened.approach(f"probe:{KEY}")["inputs"]["prompt sets"] != \
        bundle.open_bundle(demo_bundle).approach(f"probe:{KEY}")["inputs"]["prompt sets"]
    # the file given no more: its zero-shot approach, predictions and diagnostics leave the bundle, and
    # the choice is made again among the sets still given
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="analysis.stages"):
        runner.run(dataclasses.replace(options, prompts=[]))
    assert f"prompt set 'mine' is no longer given; its approach zeroshot:{KEY}:mine removed" in caplog.text
    opened = bundle.open_bundle(out)
    assert f"zeroshot:{KEY}:mine" not in {record["id"] for record in opened.approaches}
    assert not list(out.rglob(f"*{bundle.file_stem(f'zeroshot:{KEY}:mine')}*"))
    found = chosen_prompt_sets(out)
    assert len(set(found.values())) == 1 and "mine" not in found.values(), found
