"""Command line: `python -m analysis {synth,validate,run,demo,report,compare,submit} …` (`--help` on each)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from analysis.core import runfile
from analysis.core.atomic import WriteError
from analysis.core.bundle import BundleError
from analysis.data.engine import EngineError
from analysis.data.loading import DatasetError
from analysis.core.options import OptionsError, RunOptions
from analysis.core.paths import DEMO_BUNDLE
from analysis.core.runfile import RunFileError


def add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True,
                        help="dataset folder: Kaggle layout (train.csv, test.csv, train/, test/) "
                             "or ImageFolder layout (one sub-folder per class)")
    parser.add_argument("--classes", type=lambda text: [name.strip() for name in text.split(",")],
                        help="expected class names, comma-separated; other labels are reported and "
                             "skipped (default: the labels found in the data)")
    parser.add_argument("--workers", type=int, default=4, help="threads reading images (default 4)")


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options of `run` (and `demo`), after the data options."""
    group = parser.add_argument_group("split")
    group.add_argument("--seed", type=int, default=0, help="seed of the split and of every approach (default 0)")
    group.add_argument("--eval-fraction", type=float, default=0.2,
                       help="share of labelled images held out for evaluation (default 0.2)")
    group.add_argument("--folds", type=int, default=5, help="cross-validation folds inside train (default 5)")
    group = parser.add_argument_group("approaches")
    group.add_argument("--no-baselines", dest="baselines", action="store_false",
                       help="skip the majority and image-statistics baselines")
    group.add_argument("--clip", action="append", default=[], metavar="MODEL:PRETRAINED",
                       help="open_clip model and weights, e.g. ViT-B-32-quickgelu:laion400m_e32, or "
                            "MODEL:/path/to/checkpoint.pt (repeatable)")
    group.add_argument("--prompts", action="append", default=[], type=Path, metavar="FILE",
                       help="extra zero-shot prompt set, JSON (repeatable)")
    group.add_argument("--wordings", action="append", default=[], type=Path, metavar="FILE",
                       help="candidate wordings per class for the ladder's worded rung, JSON "
                            "{\"class\": [\"phrase\", …]} (repeatable)")
    group.add_argument("--convnext", action="append", default=[], metavar="NAME",
                       help="fine-tune a timm ConvNeXt, e.g. convnext_tiny (ImageNet weights when they can be "
                            "had, else from scratch), convnext_tiny:scratch, convnext_tiny:imagenet, or "
                            "convnext_tiny:/path/to/weights.safetensors (repeatable)")
    group.add_argument("--epochs", type=int, default=10, help="ConvNeXt training epochs (default 10)")
    group.add_argument("--image-size", type=int, default=224, help="ConvNeXt input size in px (default 224)")
    group.add_argument("--tta", action="store_true",
                       help="ConvNeXt test-time augmentation: average over the 8 flips and quarter turns")
    group.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                       help="where models run (default auto: cuda, then mps, then cpu)")
    group.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"],
                       help="number format of CLIP extraction and ConvNeXt inference (default auto: bfloat16 "
                            "weights on a CPU with native bfloat16, mixed precision on CUDA, else fp32)")
    group.add_argument("--batch-size", type=int, default=64, help="images per model batch (default 64)")
    group.add_argument("--cache-dir", type=Path, metavar="DIR",
                       help="where CLIP embeddings are cached between runs (default $CORNLENS_CACHE, "
                            "else ~/.cache/cornlens)")
    group.add_argument("--force", action="store_true",
                       help="recompute approaches that the bundle already holds")
    group = parser.add_argument_group("scale (pip install \"cornlens[ray]\")")
    group.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                       help="decode images, compute image statistics, CLIP embeddings and ConvNeXt inference on a "
                            "Ray cluster: HOST:PORT, auto (the cluster this machine belongs to), or nothing to "
                            "start Ray here; results land in the same cache and bundle as a local run")
    group.add_argument("--ray-actors", type=int, metavar="N",
                       help="model replicas on the cluster (default: one per --ray-gpus share of its GPUs when "
                            "the model runs on CUDA, else one per as many CPUs as torch uses threads here)")
    group.add_argument("--ray-gpus", type=float, metavar="SHARE",
                       help="GPUs each model replica holds (default 1; 0.5 puts two replicas on a GPU)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="CornLens: does zero-shot CLIP work on my images, and if not, why? Builds a results "
                    "bundle that `streamlit run dashboard/Home.py` explores.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors, no progress bars")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    synth = commands.add_parser("synth", parents=[common], help="write a synthetic corn-kernel dataset (Kaggle layout)",
                                description="Write a deterministic synthetic dataset: same seed, same bytes.")
    synth.add_argument("--out", type=Path, required=True, help="folder to write")
    synth.add_argument("--train", type=int, default=800, help="labelled images (default 800)")
    synth.add_argument("--test", type=int, default=200, help="unlabelled test images (default 200)")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default 0)")

    validate = commands.add_parser("validate", parents=[common], help="check a dataset folder and report what is in it",
                                   description="Report classes, counts per class and view, and every problem "
                                               "(file, row, column). Exit 0 when usable, 1 when not.")
    add_data_options(validate)

    run = commands.add_parser("run", parents=[common], help="build or complete a results bundle from a dataset",
                              description="Validate the data, write the split, then run every approach into "
                                          "the bundle. Finished approaches are kept unless --force.")
    add_data_options(run)
    run.add_argument("--out", type=Path, required=True, help="bundle folder to write")
    add_run_options(run)
    runfile.add_config_option(run)

    demo = commands.add_parser("demo", parents=[common], help="synthetic data + run: a bundle the dashboard opens",
                               description="Build the demo bundle from synthetic kernels: a tiny CLIP trained on "
                                           "synthetic captions that plant a known cause of zero-shot failure, a "
                                           "ConvNeXt from scratch; no data and no network needed.")
    demo.add_argument("--out", type=Path, default=DEMO_BUNDLE, help=f"bundle folder (default {DEMO_BUNDLE})")
    demo.add_argument("--train", type=int, default=600, help="labelled synthetic images (default 600)")
    demo.add_argument("--test", type=int, default=150, help="unlabelled synthetic images (default 150)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--if-missing", action="store_true",
                      help="do nothing when a readable bundle is already there")

    report = commands.add_parser("report", parents=[common], help="write a shareable report of a bundle (HTML or Markdown)",
                                 description="One self-contained HTML file (no network needed to open it) or a "
                                             "Markdown summary (headline table and key findings) ready to paste.")
    report.add_argument("bundles", type=Path, nargs="+", metavar="BUNDLE",
                        help="bundle folder; more bundles of the same images and split add their approaches")
    report.add_argument("--out", type=Path, help="file to write (default: report.html or report.md inside BUNDLE)")
    report.add_argument("--format", dest="form", choices=["html", "md", "png"], default="html",
                        help="html (default), md, or png (the headline chart alone; needs kaleido and Chrome/Chromium)")

    compare = commands.add_parser("compare", parents=[common], help="headline table of several bundles side by side",
                                  description="The approaches of bundles built from the same images with the same "
                                              "split, in one headline table; refused when images or split differ.")
    compare.add_argument("bundles", type=Path, nargs="+", metavar="BUNDLE",
                         help="bundle folders; the first one's reference rates are shown")

    submit = commands.add_parser("submit", parents=[common], help="write a Kaggle submission CSV for one approach",
                                 description="The approach's predictions for the competition test images in "
                                             "sample_submission.csv's exact format (same ids, order and columns). "
                                             "`run` already writes one per approach under BUNDLE/submissions/.")
    submit.add_argument("bundle", type=Path, metavar="BUNDLE", help="bundle folder")
    submit.add_argument("--approach", required=True, metavar="ID",
                        help="approach id as in the manifest, e.g. probe:ViT-H-14:laion2b_s32b_b79k")
    submit.add_argument("--out", type=Path, required=True, help="CSV file to write")
    submit.add_argument("--sample", type=Path, metavar="FILE",
                        help="sample submission to copy the format from (default: the dataset's own)")
    return parser


def command_synth(args: argparse.Namespace) -> int:
    from analysis.data import synthetic

    out = synthetic.write_dataset(args.out, args.train, args.test, args.seed, show_progress=not args.quiet)
    print(f"wrote {args.train} labelled and {args.test} test images to {out}")
    return 0


def command_validate(args: argparse.Namespace) -> int:
    from analysis.data import loading

    dataset = loading.load_dataset(args.data, args.classes, workers=args.workers, show_progress=not args.quiet)
    print(loading.describe(dataset))
    print("\nUsable: yes" + (" (problem rows are skipped)" if dataset.problems else ""))
    return 0


def run_options(args: argparse.Namespace, **overrides) -> RunOptions:
    fields = {name: getattr(args, name) for name in RunOptions.__dataclass_fields__ if hasattr(args, name)}
    fields["show_progress"] = not args.quiet
    return RunOptions(**(fields | overrides))


def command_run(args: argparse.Namespace) -> int:
    from analysis.data import engine
    from analysis.stages import runner

    options = run_options(args)
    cluster = engine.from_options(options.ray, options.ray_actors, options.ray_gpus)
    if cluster is not None:
        cluster.connect()  # an unreachable cluster fails in seconds, before any image is read
    result = runner.run(options)
    runfile.record_run(result.path, runfile.run_record("run", args.command_parser, args))
    print(f"bundle written to {result.path}")
    return 0


def command_demo(args: argparse.Namespace) -> int:
    from analysis.core import bundle
    from analysis.cli import demo

    if args.if_missing:
        try:
            print(f"demo bundle already at {bundle.open_bundle(args.out).path}")
            return 0
        except BundleError:
            pass
    result = demo.build_demo(args.out, n_train=args.train, n_test=args.test, seed=args.seed,
                             show_progress=not args.quiet)
    runfile.record_run(result.path, runfile.run_record("demo", args.command_parser, args))
    print(f"demo bundle written to {result.path}\nopen it with: streamlit run dashboard/Home.py")
    return 0


def command_report(args: argparse.Namespace) -> int:
    from analysis.core import side_by_side
    from analysis.present import report

    opened = side_by_side.side_by_side(*args.bundles)
    if args.form == "png":
        from analysis.present import export

        written = export.write_headline_png(opened.manifest, args.out or Path(opened.path) / export.HEADLINE_PNG)
    else:
        written = report.write_report(opened, args.out, args.form)
    print(f"report written to {written}")
    return 0


def command_compare(args: argparse.Namespace) -> int:
    from analysis.core import side_by_side, tables

    opened = side_by_side.side_by_side(*args.bundles)
    print(tables.headline_display(tables.headline_table(opened.manifest)).to_string(index=False))
    return 0


def command_submit(args: argparse.Namespace) -> int:
    from analysis.core import bundle
    from analysis.stages import submission

    info = submission.write_submission(bundle.open_bundle(args.bundle), args.approach, args.out, args.sample)
    print(f"wrote {info['rows']} rows to {info['file']}"
          + (f" ({info['filled']} ids without a usable test image got the majority class)" if info["filled"] else ""))
    return 0


COMMANDS = {"synth": command_synth, "validate": command_validate, "run": command_run, "demo": command_demo,
            "report": command_report, "submit": command_submit, "compare": command_compare}


# Error types of approach modules whose messages are written for users (module, class name).
STAGE_ERRORS = (("analysis.models.devices", "ModelError"), ("analysis.stages.zeroshot", "PromptError"),
                ("analysis.present.export", "ExportError"))


def stage_errors() -> tuple[type[Exception], ...]:
    """The :data:`STAGE_ERRORS` of modules already imported: looked up only when an error is being
    handled, so that `validate` never imports torch (an error cannot come from an unloaded module)."""
    return tuple(getattr(sys.modules[module], name) for module, name in STAGE_ERRORS if module in sys.modules)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args = runfile.with_command_parser(parser, argv, args)  # a run file's `quiet` counts too
        logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                            format="%(levelname)s %(message)s", stream=sys.stderr)
        return COMMANDS[args.command](args)
    except (DatasetError, BundleError, OptionsError, WriteError, RunFileError, EngineError, *stage_errors()) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: finished steps are kept in the bundle; run the same command again to "
              "continue.", file=sys.stderr)
        return 130
