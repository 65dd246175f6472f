"""JSON received from someone (a bundle's manifest and diagnostics), read whole but bounded: in size,
and in depth, since a file nested 200,000 deep would exhaust Python's recursion in the parser or in
any code that walks what it returns."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

MAX_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 64


def digest(value: Any, length: int = 16) -> str:
    """A stable hex digest (SHA-256, its first ``length`` characters) of a JSON-able value, whatever
    its key order: the one way a run fingerprints what it was made from (inputs, training rows, an
    embedding cache's identity)."""
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


class JsonFileError(ValueError):
    """The file is not JSON, or it is larger or deeper than a bundle's JSON ever is."""


def read_json(path: Path) -> Any:
    """The JSON value in ``path``; :class:`JsonFileError` saying why not. OSError (FileNotFoundError
    included) passes through."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise JsonFileError(f"larger than {MAX_BYTES // 2**20} MB, more than a bundle's JSON ever holds; not read")
    try:
        found = json.loads(data)
    except RecursionError as error:
        raise JsonFileError(f"nested deeper than {MAX_DEPTH} levels; not read") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise JsonFileError(str(error)) from error
    if depth(found) > MAX_DEPTH:
        raise JsonFileError(f"nested deeper than {MAX_DEPTH} levels; not read")
    return found


def depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (0 for a number or a string), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest
