"""``run``: the run context (``context``), the stages in order (``registry``), the runner that walks
them (``runner``) and one module per stage (baselines, zeroshot, probe, finetune, ladder, agreement,
submission).

May import: :mod:`analysis.core`, :mod:`analysis.data`, :mod:`analysis.models`, :mod:`analysis.stats`,
:mod:`analysis.ladder`. A stage module never imports ``runner`` or ``registry``.
"""
