"""The rungs' readable names: a constant the pages read without importing the rungs' numerics
(scipy and scikit-learn cost a fresh dashboard server about a second)."""

RUNG_NAMES = {"zeroshot": "zero-shot", "zeroshot-calibrated": "zero-shot, calibrated",
              "zeroshot-worded": "zero-shot, worded", "zeroshot-worded-calibrated": "zero-shot, worded and calibrated",
              "centroid": "class centroid", "knn": "k nearest neighbours", "probe": "linear probe",
              "finetune": "fine-tuned ConvNeXt"}
