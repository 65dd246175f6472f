"""Why zero-shot fails, in accuracy points: the rungs of fixes (``rungs``), their summary per model
(``summary``) and the verdict (``verdict``).

May import: :mod:`analysis.core`, :mod:`analysis.data`, :mod:`analysis.stats`.
"""
