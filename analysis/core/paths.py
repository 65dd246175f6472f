"""Where things live by default: the project's results folder and the demo bundle (one place for
the command line, the demo and the dashboard; it imports nothing)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
IN_CLONE = (PROJECT_ROOT / "pyproject.toml").is_file()  # running from a clone, not an installed package
# results/ of the clone when CornLens runs from one; an installed package writes beside the current folder
DEFAULT_RESULTS = (PROJECT_ROOT if IN_CLONE else Path.cwd()) / "results"
DEMO_BUNDLE = DEFAULT_RESULTS / "demo"


def demo_data_folder(out: Path) -> Path:
    """Where the demo's synthetic images live: next to the bundle (``results/demo-data``)."""
    return out.with_name(out.name + "-data")


DEMO_DATA = demo_data_folder(DEMO_BUNDLE)
