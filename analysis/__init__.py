"""CornLens: does zero-shot CLIP work on my images, and if not, why?

For notebooks: ``from analysis import open_bundle`` (see :mod:`analysis.core.api`).
"""

from analysis.core.version import __version__
__all__ = ["__version__", "open_bundle"]


def __getattr__(name: str):
    """``open_bundle`` is imported on first use, so that ``python -m analysis`` starts without pandas."""
    if name == "open_bundle":
        from analysis.core.api import open_bundle

        return open_bundle
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
