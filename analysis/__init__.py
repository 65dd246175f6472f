"""CornLens: does zero-shot CLIP work on my images, and if not, why?"""

__version__ = "0.1.0"
