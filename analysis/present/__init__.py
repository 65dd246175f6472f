"""What a person reads: tables' labels, figures and their readings (``figures``, ``explain``),
maps, the panels declared once for the dashboard and the report (``panels``), and the report.

May import: :mod:`analysis.core`, :mod:`analysis.data`, :mod:`analysis.models`, :mod:`analysis.stats`,
:mod:`analysis.ladder`; never :mod:`analysis.stages` or :mod:`analysis.cli`.
"""
