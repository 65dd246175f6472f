"""Panels: each page's figures and the sentences that read them, declared once.

A *panel* is one figure (or none, for a panel of words only), the heading it sits under and the
reading that states what it shows. Every dashboard page that has a matching section in the report
declares its panels here, in order, as a tuple of :class:`PanelSpec`. Two thin adapters draw them:
``dashboard/panels.py`` on a Streamlit page and :mod:`analysis.present.report.sections` in the HTML report,
so the dashboard and the report always show the same figures with the same words, in the same order.

Both adapters get a page's data through the same ``*_data`` function, from a
:class:`Source` (the dashboard passes its cached loaders, the report an opened bundle).

To add a panel:

1. write its figure in :mod:`analysis.present.figures` and its reading in :mod:`analysis.present.explain`
   (plain data in, a figure or Markdown text out);
2. add a :class:`PanelSpec` to the page's tuple (``AUTOPSY_PANELS`` …) where it should appear;
3. if it needs data the page's data class lacks, add a field to that class and fill it in the
   page's ``*_data`` function. Nothing else changes: both adapters pick it up.

A panel whose data the bundle lacks is left out, or, when its spec names a ``missing`` part,
replaced by the sentence and command that add that part. Data of an unexpected shape (written by
another CornLens version) raises :class:`~analysis.core.bundle.BundleError` naming the file and the key
when it is read (:mod:`analysis.core.records`); the adapters show that in place of the one panel and
draw the rest. Any other exception is a bug and is not hidden.

The package: :mod:`~analysis.present.panels.spec` (what a panel is, how it is built, where data comes
from), then one module of page lists each: :mod:`~analysis.present.panels.overview` (Home, Compare),
:mod:`~analysis.present.panels.autopsy` (zero-shot autopsy, shortcuts), :mod:`~analysis.present.panels.training`
(linear probe, ConvNeXt), :mod:`~analysis.present.panels.ladder` (the ladder on the autopsy page, the verdict on
Home and at the top of the report). Everything is importable from ``analysis.present.panels``.
"""

from __future__ import annotations

from analysis.present.panels.autopsy import (AUTOPSY_PANELS, PROMPTS, SHORTCUT_PANELS, AutopsyData, ShortcutData, autopsy_data,
                                     shortcut_data)
from analysis.present.panels.ladder import LADDER_PANELS, VERDICT_PANELS, verdict_data
from analysis.present.panels.overview import COMPARE_PANELS, HOME_PANELS, CompareData, HomeData, compare_data, home_data
from analysis.present.panels.spec import BundleSource, PageData, Panel, PanelSpec, Source, build, build_all, reference_rates, rows
from analysis.present.panels.training import (CONVNEXT_PANELS, MISTAKES, PROBE_PANELS, TRAINING, ConvnextData, ProbeData,
                                              convnext_data, probe_data)

__all__ = ["AUTOPSY_PANELS", "COMPARE_PANELS", "CONVNEXT_PANELS", "HOME_PANELS", "LADDER_PANELS", "PROBE_PANELS",
           "SHORTCUT_PANELS", "VERDICT_PANELS", "verdict_data",
           "AutopsyData", "BundleSource", "CompareData", "ConvnextData", "HomeData", "PageData", "Panel",
           "PanelSpec", "ProbeData", "ShortcutData", "Source", "autopsy_data", "build", "build_all", "compare_data", "convnext_data", "home_data", "probe_data", "rows",
           "reference_rates", "shortcut_data", "MISTAKES", "PROMPTS", "TRAINING"]
