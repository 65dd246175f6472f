"""Datasets: reading the Kaggle, ImageFolder and CSV layouts (``loading``, ``csvlayout``,
``dataset_files``), their problems, the grouped split, synthetic kernels, image statistics, and
the engine that runs per-image work on a Ray cluster (``engine``, ``run --ray``).

May import: :mod:`analysis.core`.
"""
