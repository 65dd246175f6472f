"""What a Parquet column of a bundle holds, in words: text, numbers or nothing (a wrong type is
named when the bundle is opened, never met later as a traceback)."""

from __future__ import annotations

import pyarrow as pa

KIND_WORDS = {"text": "text", "number": "numbers", "null": "nothing", "other": "other values"}


def column_kind(kind: pa.DataType) -> str:
    """``text``, ``number``, ``null`` or ``other`` for a Parquet column's type."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "text"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return "number"
    return "null" if pa.types.is_null(kind) else "other"
