"""Numbers with no model and no I/O: metrics, honest choices made on the training part
(``choices``), the modality gap (``alignment``), neighbours and per-image agreement between approaches.

May import: :mod:`analysis.core`.
"""
