"""Datasets: reading the Kaggle, ImageFolder and CSV layouts (``loading``, ``csvlayout``,
``dataset_files``), their problems, the grouped split, synthetic kernels and image statistics.

May import: :mod:`analysis.core`.
"""
