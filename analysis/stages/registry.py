"""The stages of `python -m analysis run`, in run order: the one list to read (or extend).

Each stage is a :class:`analysis.stages.context.Stage` declared at the bottom of its own module. The
runner (:mod:`analysis.stages.runner`) imports this list; no stage imports the runner.

How to add a stage (a ladder rung, say):

1. In its module, write a frozen dataclass of the options it reads; its field names must be
   :class:`analysis.stages.context.RunOptions` fields (add a field there, and its flag in
   ``analysis.cli.commands.add_run_options``, if the stage needs a new one). Use ``NoOptions`` for none.
2. Write ``run(context, options, unit)``: it reads what earlier stages wrote with
   ``context.bundle()`` and writes only through the context (``save_approach`` with the approach's
   ``kind``, ``model_key`` and ``prompt_set``, ``save_embeddings``, ``save_projection``,
   ``save_diagnostics``, ``save_features``, ``set_manifest_entry``, ``atomic_file``).
3. Optionally ``units(context, options)`` (one unit per model, say; default one unit, ``None``),
   ``done(context, options, unit)`` (its "already in the bundle" rule; default: always rerun),
   ``inputs(context, options, unit)`` (what the unit is made from, by part: a changed part reruns it),
   ``check(options)`` (fail in seconds, before any image is read) and ``describe(unit)``. The runner
   alone decides whether a unit runs (``done``, ``inputs``, ``--force``); ``run`` redoes the whole unit.
4. Declare ``STAGE = Stage(name, summary, Options, run, units=…, done=…, inputs=…, check=…)`` and add
   it below, after the stages whose output it reads. ``tests/test_architecture.py`` checks the list,
   that stage options are ``RunOptions`` fields and that nothing a stage calls writes around the context.
"""

from __future__ import annotations

from analysis.stages import agreement, baselines, finetune, ladder, probe, submission, zeroshot
from analysis.stages.context import Stage

STAGES: tuple[Stage, ...] = (
    baselines.STAGE,   # majority, image-stats, confounders; off with --no-baselines
    zeroshot.STAGE,    # every --clip model: embeddings, zero-shot per prompt set, autopsy, map
    probe.STAGE,       # every CLIP model with features in the bundle: C sweep, k-shot curve, blend
    finetune.STAGE,    # every --convnext model: training, predictions, features, map
    ladder.STAGE,  # every --clip model: calibrated, worded, centroid, kNN rungs; the ladders; the verdict
    agreement.STAGE,   # after every approach: agreement table, label problems
    submission.STAGE,  # after every approach: submissions/<approach>.csv when there is a test set
)


def stage(name: str) -> Stage:
    """The registered stage called ``name``."""
    for entry in STAGES:
        if entry.name == name:
            return entry
    raise KeyError(f"no stage {name!r}; there are {', '.join(entry.name for entry in STAGES)}")


def list_stages() -> list[str]:
    """The stage names in run order."""
    return [entry.name for entry in STAGES]
