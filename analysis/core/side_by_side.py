"""Bundles side by side: the approaches of several bundles of the same images and split, in one view.

Two runs (two prompt files, two seeds of a model, two models) are only comparable when every
approach was scored on the same held-out images with the same labels, so :func:`check_comparable`
refuses anything else with a message that says which images differ. :func:`side_by_side` returns a
read-only :class:`~analysis.core.bundle.Bundle` whose approaches are the first bundle's plus those of
the others, each of the latter marked with its bundle (``bundle`` in the record, `` @ name`` in the
id); the data part, maps and embeddings are the first bundle's.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.core import tables
from analysis.core.bundle import Bundle, BundleError, open_bundle
from analysis.core.records import BUNDLE_KEY, bundle_of  # noqa: F401  (combine.bundle_of for the pages)


def bundle_names(paths: list[Path]) -> list[str]:
    """Short unique names: the folder name, with its parent folder when two folders share a name."""
    names = [path.name for path in paths]
    return [f"{path.parent.name}/{path.name}" if names.count(path.name) > 1 else path.name
            for path in paths]


def _examples(values: pd.Series | list, count: int = 3) -> str:
    return ", ".join(str(value) for value in list(values)[:count])


def check_comparable(first: Bundle, other: Bundle) -> None:
    """Raise :class:`BundleError` unless ``other`` has the same classes, image ids, labels and split as ``first``."""
    refused = f"{other.path} cannot be compared with {first.path}"
    if Path(other.path).resolve() == Path(first.path).resolve():
        raise BundleError(f"{refused}: it is the same bundle.")
    if first.classes != other.classes:
        raise BundleError(f"{refused}: different classes ({', '.join(other.classes)} against "
                          f"{', '.join(first.classes)}).")
    mine = first.images()[["image_id", "label", "split"]]
    theirs = other.images()[["image_id", "label", "split"]]
    only_mine = sorted(set(mine["image_id"]) - set(theirs["image_id"]))
    only_theirs = sorted(set(theirs["image_id"]) - set(mine["image_id"]))
    if only_mine or only_theirs:
        raise BundleError(f"{refused}: different images ({len(only_mine)} only in the first, e.g. "
                          f"{_examples(only_mine) or '-'}; {len(only_theirs)} only in the second, e.g. "
                          f"{_examples(only_theirs) or '-'}). Build both from the same dataset.")
    both = mine.merge(theirs, on="image_id", suffixes=("", "_other"))
    moved = both[both["split"] != both["split_other"]]
    if len(moved):
        raise BundleError(f"{refused}: different split ({len(moved)} images are held out in one bundle and not in "
                          f"the other, e.g. {_examples(moved['image_id'])}); approaches scored on different "
                          "held-out images are not comparable. Build both with the same --seed, --eval-fraction "
                          "and --folds (or the same CSV split column).")
    relabelled = both[both["label"].fillna("") != both["label_other"].fillna("")]
    if len(relabelled):
        raise BundleError(f"{refused}: different labels for {len(relabelled)} images, e.g. "
                          f"{_examples(relabelled['image_id'])}.")


class SideBySide(Bundle):
    """The first bundle with the approaches of others added; predictions and diagnostics are read
    from the bundle each approach comes from."""

    def __init__(self, first: Bundle, others: list[Bundle]):
        names = bundle_names([first.path, *(other.path for other in others)])
        approaches = list(first.approaches)
        self.sources: dict[str, tuple[Bundle, str]] = {}
        for other, name in zip(others, names[1:]):
            for record in other.approaches:
                approach_id = f"{record['id']} @ {name}"
                self.sources[approach_id] = (other, record["id"])
                approaches.append({**record, "id": approach_id, BUNDLE_KEY: name})
        super().__init__(first.path, {**first.manifest, "approaches": approaches})
        self._images = first.images()
        self.first, self.others, self.names = first, others, names

    def predictions(self, approach_id: str) -> pd.DataFrame:
        if approach_id in self.sources:
            other, own_id = self.sources[approach_id]
            return other.predictions(own_id)
        return self.first.predictions(approach_id)

    def has_diagnostics(self, name: str) -> bool:
        if name in self.sources:
            other, own_id = self.sources[name]
            return other.has_diagnostics(own_id)
        return self.first.has_diagnostics(name)

    def diagnostics(self, name: str) -> dict:
        if name in self.sources:
            other, own_id = self.sources[name]
            return other.diagnostics(own_id)
        return self.first.diagnostics(name)


def representative_by_bundle(approaches: list[dict], bundles: list[str | None] | None = None) -> list[dict]:
    """:func:`analysis.core.tables.representative_approaches` of each bundle's approaches (the first
    bundle's, then each other's in order); only those of ``bundles`` when given."""
    names = list(dict.fromkeys(bundle_of(record) for record in approaches))
    return [record for name in names if bundles is None or name in bundles
            for record in tables.representative_approaches([r for r in approaches if bundle_of(r) == name])]


def add_comparable(first: Bundle, others: list[Bundle]) -> tuple[Bundle, list[str]]:
    """``first`` with the approaches of those ``others`` that are comparable, and why each other one is not."""
    accepted, refused = [], []
    for other in others:
        try:
            check_comparable(first, other)
            accepted.append(other)
        except BundleError as error:
            refused.append(str(error))
    return (SideBySide(first, accepted) if accepted else first), refused


def side_by_side(first: Bundle | str | Path, *others: Bundle | str | Path) -> Bundle:
    """The first bundle with the approaches of ``others`` added, after :func:`check_comparable`.

    Args:
        first: the bundle (or its folder) whose data part, maps and diagnostics are kept.
        others: more bundles (or folders) of the same images and split.

    Returns:
        ``first`` itself when there are no others, else a read-only :class:`SideBySide`.
    """
    opened = [item if isinstance(item, Bundle) else open_bundle(item) for item in (first, *others)]
    for other in opened[1:]:
        check_comparable(opened[0], other)
    return opened[0] if len(opened) == 1 else SideBySide(opened[0], opened[1:])
