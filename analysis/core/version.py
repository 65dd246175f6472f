"""The version of CornLens (pyproject.toml reads it from here)."""

__version__ = "0.1.0"
