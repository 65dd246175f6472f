"""Numbers with no model and no I/O: metrics, honest choices made on the training part
(``choices``), the modality gap (``alignment``), neighbours (``neighbours``; exact kNN as torch matrix
products, on a GPU when present: ``knn``) and per-image agreement between approaches.

May import: :mod:`analysis.core`.
"""
