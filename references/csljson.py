"""Read and write CSL-JSON (a list of items, or one item; Zotero's and citeproc's exports).

The reader finds the items and their lines; references.validate checks their shape.
"""

from __future__ import annotations

import json
import re
from typing import Any

from references.record import Failure, FormatError, ReadResult, Record

FORMAT = "csl-json"
# A CSL item nests five deep (item, date, date-parts, part, number); this leaves room for the
# extra fields tools add, and keeps Python's parser far from its recursion limit.
MAX_DEPTH = 32
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def nesting(text: str) -> tuple[int, int]:
    """Return how deep JSON arrays and objects nest in text, and the index where that is."""
    depth = deepest = where = 0
    for m in _STRUCTURE.finditer(text):
        char = m.group()
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, m.start()
        elif char in "]}":
            depth -= 1
    return deepest, where


def read(text: str, file: str = "<text>") -> ReadResult:
    """Read CSL-JSON text; items that are not CSL-JSON become failures."""
    text = text.lstrip("\ufeff")
    deepest, where = nesting(text)
    if deepest > MAX_DEPTH:
        line = text.count("\n", 0, where) + 1
        raise FormatError(
            file, f"nests arrays and objects {deepest} deep; CSL-JSON is read to {MAX_DEPTH}", line
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise FormatError(
            file, f"is not valid JSON: {e.msg} (column {e.colno})", e.lineno
        ) from None
    except (RecursionError, ValueError) as e:  # a number too long to read as an integer
        raise FormatError(file, f"cannot be read as JSON ({collapse_error(e)})") from None
    if isinstance(data, dict):
        return _read_items([(_start_of_value(text, 0), data)], text, file)
    if not isinstance(data, list):
        raise FormatError(file, "is not CSL-JSON: expected a list of items or one item object")
    return _read_items(_positions(text, data), text, file)


def collapse_error(error: Exception) -> str:
    """Return an exception's message on one short line."""
    return " ".join(str(error).split())[:100]


def _start_of_value(text: str, index: int) -> int:
    while index < len(text) and text[index].isspace():
        index += 1
    return index


def _positions(text: str, items: list[Any]) -> list[tuple[int, Any]]:
    """Return each list item with the index in text where it starts."""
    decoder = json.JSONDecoder()
    index = _start_of_value(text, 0) + 1  # past '['
    located = []
    for item in items:
        index = _start_of_value(text, index)
        located.append((index, item))
        _, index = decoder.raw_decode(text, index)
        index = _start_of_value(text, index)
        if index < len(text) and text[index] == ",":
            index += 1
    return located


def _read_items(located: list[tuple[int, Any]], text: str, file: str) -> ReadResult:
    result = ReadResult(format=FORMAT)
    for index, item in located:
        line = text.count("\n", 0, index) + 1
        raw = text[index : index + 2000]
        if not isinstance(item, dict):
            error = f"item is a JSON {type(item).__name__}, not an object"
            result.failures.append(Failure(file, line, None, error, raw))
            continue
        # The shape of the item is checked once, for every reader, by references.validate.
        result.add(dict(item), line)
    return result


def write(records: list[Record]) -> str:
    """Return records as a pretty-printed CSL-JSON list."""
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
