"""Per-class text–image alignment: does each class prompt point at its own images?

For every class: the cosine of its text embedding (the chosen prompt set's class embedding) with
every class's image centroid (mean of the L2-normalised training embeddings, renormalised), the
rank of its own class among them (1 = its own images are the closest), and how the model's
tokenizer splits the class name (``silkcut`` → ``silk`` + ``cut``) — a name cut into pieces or
mapped to an unknown token is a word the text tower may never have seen whole.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

WORD_END = "</w>"  # open_clip's SimpleTokenizer marks the last piece of a word


@lru_cache(maxsize=8)
def tokenizer_for(model: str | None = None):
    """The model's open_clip tokenizer; CLIP's own BPE (shipped with open_clip) when the model's
    tokenizer cannot be had offline (a Hugging Face tokenizer not in the local cache)."""
    import open_clip
    from open_clip.tokenizer import SimpleTokenizer

    if model:
        try:
            return open_clip.get_tokenizer(model)
        except (OSError, ValueError, RuntimeError) as error:  # offline hub, unknown model name
            log.info("tokenizer of %s not available (%s); using CLIP's BPE tokenizer", model, error)
    return SimpleTokenizer()


def word_pieces(text: str, tokenizer=None) -> list[list[str]]:
    """How the tokenizer cuts each word of ``text``: one list of pieces per word.

    Works with open_clip's ``SimpleTokenizer`` (CLIP BPE) and its ``HFTokenizer``.
    """
    tokenizer = tokenizer or tokenizer_for(None)
    words = text.replace("_", " ").split()
    if hasattr(tokenizer, "encode") and hasattr(tokenizer, "decoder"):
        return [[tokenizer.decoder[token].replace(WORD_END, "") for token in tokenizer.encode(word)]
                for word in words]
    inner = getattr(tokenizer, "tokenizer", tokenizer)
    return [[piece.lstrip("Ġ▁#") for piece in inner.tokenize(word)] for word in words]


def unknown_token(tokenizer) -> str | None:
    inner = getattr(tokenizer, "tokenizer", None)
    return getattr(inner, "unk_token", None)


def token_flags(pieces: list[list[str]], unknown: str | None = None) -> list[str]:
    """Readable warnings about a name's pieces: split words and unknown tokens."""
    flags = []
    for word in pieces:
        if unknown and any(piece == unknown.lstrip("Ġ▁#") or piece == unknown for piece in word):
            flags.append(f"'{''.join(word)}' contains an unknown token")
        elif len(word) > 1:
            flags.append(f"'{''.join(word)}' is split into {len(word)} pieces ({' + '.join(word)})")
    return flags


def alignment_table(text_embeddings: np.ndarray, centroids: np.ndarray, classes: Sequence[str],
                    wordings: dict[str, str] | None = None, tokenizer=None) -> list[dict]:
    """One row per class: its prompt's cosine with every image centroid, its own rank, its tokens.

    Args:
        text_embeddings: ndarray of shape (n_classes, dim), class text embeddings (unit rows).
        centroids: ndarray of shape (n_classes, dim), class image centroids (unit rows).
        wordings: class → the words the prompts use for it (default: the class name).

    Returns:
        list of dicts with ``class``, ``wording``, ``cosine`` ({class: cosine}), ``own_cosine``,
        ``own_rank`` (1 = the prompt is closest to its own class's images), ``closest_class``,
        ``tokens`` (pieces per word of the class name), ``wording_tokens`` and ``flags``.
    """
    tokenizer = tokenizer or tokenizer_for(None)
    unknown = unknown_token(tokenizer)
    text = np.asarray(text_embeddings, dtype=np.float64)
    image = np.asarray(centroids, dtype=np.float64)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    image /= np.linalg.norm(image, axis=1, keepdims=True)
    cosine = text @ image.T  # (class prompt, image class)
    rows = []
    for index, name in enumerate(classes):
        order = np.argsort(-cosine[index], kind="stable")
        wording = (wordings or {}).get(name, name.replace("_", " "))
        pieces, worded = word_pieces(name, tokenizer), word_pieces(wording, tokenizer)
        flags = token_flags(pieces, unknown)
        own_rank = int(np.flatnonzero(order == index)[0]) + 1
        if own_rank > 1:
            flags.insert(0, f"its prompt is closer to the *{classes[order[0]]}* images than to its own")
        rows.append({"class": name, "wording": wording,
                     "cosine": {other: round(float(cosine[index, j]), 6) for j, other in enumerate(classes)},
                     "own_cosine": round(float(cosine[index, index]), 6), "own_rank": own_rank,
                     "closest_class": classes[int(order[0])], "tokens": pieces, "wording_tokens": worded,
                     "flags": flags})
    return rows
