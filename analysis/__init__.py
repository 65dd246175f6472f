"""CornLens: does zero-shot CLIP work on my images, and if not, why?

For notebooks: ``from analysis import open_bundle`` (see :mod:`analysis.core.api`), and
``from analysis import attribute_failure`` for why zero-shot fails on embeddings from anywhere (see
:mod:`analysis.ladder.attribution`).
"""

from analysis.core.version import __version__
__all__ = ["__version__", "attribute_failure", "open_bundle"]


def __getattr__(name: str):
    """``open_bundle`` and ``attribute_failure`` are imported on first use, so that ``python -m analysis``
    starts without pandas or scikit-learn."""
    if name == "open_bundle":
        from analysis.core.api import open_bundle

        return open_bundle
    if name == "attribute_failure":
        from analysis.ladder.attribution import attribute_failure

        return attribute_failure
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
