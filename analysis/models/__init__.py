"""Models and what runs them: CLIP and ConvNeXt weights (``clip_weights``, ``convnext_weights``,
``hub``), devices and precision, image batches, embedding and its cache, ConvNeXt's images and
inference (``convnext_images``), the text tower the dashboard runs, and the 2-D projection.

May import: :mod:`analysis.core`, :mod:`analysis.data`.
"""
