"""Run files (`run --config FILE.toml`) and the record of how a bundle was made."""

from __future__ import annotations

import shlex
from pathlib import Path

import pandas as pd
import pytest

from analysis.core import bundle, runfile
from analysis.cli import commands


def parse(*argv: str):
    parser = commands.build_parser()
    return runfile.with_command_parser(parser, list(argv), parser.parse_args(list(argv)))


def test_run_file_sets_options_and_command_line_wins(tmp_path):
    (tmp_path / "run.toml").write_text('data = "images"\nout = "/abs/bundle"\neval_fraction = 0.25\n'
                                       'seed = 7\nno_baselines = true\nclip = ["A:x", "B:y"]\ntta = true\n'
                                       'image-size = 96\n')
    args = parse("run", "--config", str(tmp_path / "run.toml"), "--seed", "3", "--clip", "C:z")
    assert args.data == tmp_path / "images"  # relative to the run file's folder
    assert args.out == Path("/abs/bundle")
    assert args.eval_fraction == 0.25 and args.image_size == 96 and args.tta is True
    assert args.baselines is False
    assert args.seed == 3                      # the command line wins …
    assert args.clip == ["C:z"]                # … also for repeatable options: replaced, not added to
    assert args.folds == 5                     # untouched options keep their defaults


@pytest.mark.parametrize("content, message", [
    ('data = "d"\nout = "b"\nseed = "2"\n', "key 'seed' must be an integer, got str '2'"),
    ('data = "d"\nout = "b"\neval_fraction = true\n', "key 'eval_fraction' must be a number"),
    ('data = "d"\nout = "b"\ntta = "yes"\n', "key 'tta' must be true or false"),
    ('data = "d"\nout = "b"\ndevice = "tpu"\n', "key 'device' must be one of auto, cpu, cuda, mps"),
    ('data = "d"\nout = "b"\nsed = 2\n', "unknown key 'sed'"),
    ('data = "d"\nout = "b"\n[clip]\nname = "x"\n', "key 'clip' must be a string"),
    ('data = "d"\nseed = \n', "not valid TOML"),
])
def test_bad_run_file_names_the_key(tmp_path, capsys, content, message):
    (tmp_path / "run.toml").write_text(content)
    assert commands.main(["run", "--config", str(tmp_path / "run.toml")]) == 1
    error = capsys.readouterr().err
    assert message in error and str(tmp_path / "run.toml") in error and "Traceback" not in error


def test_required_options_come_from_file_or_command_line(tmp_path, capsys):
    (tmp_path / "run.toml").write_text('data = "d"\n')
    with pytest.raises(SystemExit):
        parse("run", "--config", str(tmp_path / "run.toml"))
    assert "--out (or out in the run file)" in capsys.readouterr().err
    assert parse("run", "--config", str(tmp_path / "run.toml"), "--out", "b").out == Path("b")


def test_recorded_config_round_trips_through_toml_and_command(tmp_path):
    args = parse("run", "--data", "d", "--out", "b", "--clip", "A:x", "--epochs", "3", "--classes", "a,b",
                 "--no-baselines", "--force")
    record = runfile.run_record("run", args.command_parser, args)
    assert "force" not in record["config"]
    command = shlex.split(record["command"])
    assert command[:4] == ["python", "-m", "analysis", "run"]
    again = parse(*command[3:])
    assert runfile.effective_config(again.command_parser, again) == record["config"]
    (tmp_path / "run.toml").write_text(runfile.to_toml(record["config"]))
    from_file = parse("run", "--config", str(tmp_path / "run.toml"))
    assert runfile.effective_config(from_file.command_parser, from_file) == record["config"]


def test_toml_file_reproduces_the_command_line_bundle(tmp_path, synthetic_data):
    by_command = tmp_path / "by-command"
    assert commands.main(["run", "--data", str(synthetic_data), "--out", str(by_command), "-q", "--no-baselines",
                     "--seed", "4", "--eval-fraction", "0.25", "--folds", "3"]) == 0
    (tmp_path / "run.toml").write_text(f'data = "{synthetic_data}"\nout = "by-file"\nquiet = true\n'
                                       'no-baselines = true\nseed = 4\neval_fraction = 0.25\nfolds = 3\n')
    assert commands.main(["run", "--config", str(tmp_path / "run.toml")]) == 0
    first, second = bundle.open_bundle(by_command), bundle.open_bundle(tmp_path / "by-file")
    pd.testing.assert_frame_equal(first.images(), second.images())
    assert first.manifest["split"] == second.manifest["split"]
    assert first.manifest["dataset"]["fingerprint"] == second.manifest["dataset"]["fingerprint"]
    made, made_by_file = runfile.runs(first.manifest), runfile.runs(second.manifest)
    assert len(made) == len(made_by_file) == 1
    assert made_by_file[0]["run_file"] == str(tmp_path / "run.toml")
    assert {k: v for k, v in made[0]["config"].items() if k != "out"} == \
        {k: v for k, v in made_by_file[0]["config"].items() if k != "out"}
    assert made_by_file[0]["command"] == made[0]["command"].replace(str(by_command), str(tmp_path / "by-file"))
