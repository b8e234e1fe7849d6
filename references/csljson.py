"""Read and write CSL-JSON (a list of items, or one item; Zotero's and citeproc's exports)."""

from __future__ import annotations

import json
from typing import Any

from references.record import Failure, FormatError, ReadResult, Record

FORMAT = "csl-json"
_NAME_ROLES = ("author", "editor", "translator", "collection-editor", "container-author")
_DATES = ("issued", "accessed", "original-date", "event-date", "submitted")


def read(text: str, file: str = "<text>") -> ReadResult:
    """Read CSL-JSON text; items that are not CSL-JSON become failures."""
    text = text.lstrip("\ufeff")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise FormatError(
            file, f"is not valid JSON: {e.msg} (column {e.colno})", e.lineno
        ) from None
    if isinstance(data, dict):
        return _read_items([(_start_of_value(text, 0), data)], text, file)
    if not isinstance(data, list):
        raise FormatError(file, "is not CSL-JSON: expected a list of items or one item object")
    return _read_items(_positions(text, data), text, file)


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
        key = str(item["id"]) if item.get("id") not in (None, "") else None
        if error := _problem(item):
            result.failures.append(Failure(file, line, key, error, raw))
            continue
        record = dict(item)
        if key is not None:
            record["id"] = key  # citeproc allows numeric ids; the library keys are text
        result.records.append(record)
    return result


def _problem(item: dict[str, Any]) -> str | None:
    """Return what keeps an item from being CSL-JSON, or None."""
    if "type" not in item:
        return "item has no 'type'"
    if not isinstance(item["type"], str) or not item["type"]:
        return "item 'type' is not a string"
    for role in _NAME_ROLES:
        names = item.get(role)
        if names is not None and not (
            isinstance(names, list) and all(isinstance(n, dict) for n in names)
        ):
            return f"item {role!r} is not a list of name objects"
    for name in _DATES:
        date = item.get(name)
        if date is not None and not isinstance(date, dict):
            return f"item {name!r} is not a date object"
    return None


def write(records: list[Record]) -> str:
    """Return records as a pretty-printed CSL-JSON list."""
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
