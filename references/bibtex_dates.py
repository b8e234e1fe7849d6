"""Dates in BibTeX: year, month and day fields, and biblatex's ISO `date` (with ranges)."""

from __future__ import annotations

import re
from typing import Any

from references.bibtex_text import MONTH_NAMES, collapse, decode, encode, month_number

DateParts = list[list[int]]
_ISO_RE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


def parse_iso(text: str) -> DateParts | None:
    """Return date-parts for '2009', '2009-03-15' or a range '2009-03/2009-04', or None."""
    parts: DateParts = []
    for piece in text.strip().split("/"):
        if piece in ("", "..") and parts:
            continue  # an open-ended range keeps its start
        m = _ISO_RE.fullmatch(piece.strip())
        if not m:
            return None
        parts.append([int(g) for g in m.groups() if g])
    return parts or None


def _month_parts(text: str) -> tuple[list[int], int | None] | None:
    """Return the months a month field names (one, or two for a range) and a day."""
    single = month_number(text)
    if single:
        return [single], None
    words = re.findall(r"[A-Za-z]+|\d+", text)
    months = [n for n in (month_number(w) for w in words if w.isalpha()) if n]
    days = [int(w) for w in words if w.isdigit() and 1 <= int(w) <= 31]
    if not months or len(months) > 2 or len(words) != len(months) + len(days) or len(days) > 1:
        return None
    return months, (days[0] if days and len(months) == 1 else None)


def issued(raw: dict[str, str]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Return the CSL `issued` date from the raw fields, and the date fields it could not use."""
    unused: dict[str, str] = {}
    if "date" in raw:
        parts = parse_iso(raw["date"])
        if parts:
            first = parts[0]
            for i, name in enumerate(("year", "month", "day")):
                if name in raw and not _agrees(name, raw[name], first, i):
                    unused[name] = raw[name]
            return {"date-parts": parts}, unused
        unused["date"] = raw["date"]
    if "year" not in raw:
        unused.update({k: raw[k] for k in ("month", "day") if k in raw})
        return None, unused
    year = collapse(decode(raw["year"]))
    if not re.fullmatch(r"\d{4}", year):
        unused.update({k: raw[k] for k in ("month", "day") if k in raw})
        return ({"literal": year} if year else None), unused
    parts_: DateParts = [[int(year)]]
    if "month" in raw:
        months = _month_parts(decode(raw["month"]))
        if months is None:
            unused["month"] = raw["month"]
        else:
            parts_ = [[int(year), m] for m in months[0]]
            day = months[1]
            if "day" in raw and collapse(raw["day"]).isdigit() and len(parts_) == 1:
                day = int(collapse(raw["day"]))
            elif "day" in raw:
                unused["day"] = raw["day"]
            if day and len(parts_) == 1:
                parts_[0].append(day)
    elif "day" in raw:
        unused["day"] = raw["day"]
    return {"date-parts": parts_}, unused


def _agrees(name: str, value: str, first: list[int], index: int) -> bool:
    if index >= len(first):
        return False
    if name == "month":
        return month_number(decode(value)) == first[1]
    text = collapse(value)
    return text.isdigit() and int(text) == first[index]


def _ints(date: dict[str, Any] | None) -> DateParts:
    parts: DateParts = []
    for part in (date or {}).get("date-parts") or []:
        try:
            numbers = [int(p) for p in part if p not in (None, "")]
        except (TypeError, ValueError):
            return []
        if numbers:
            parts.append(numbers)
    return parts


def iso(date: dict[str, Any] | None) -> str:
    """Return a CSL date as ISO 8601 ('2009-03/2009-04'), or ''."""
    pieces = []
    for part in _ints(date):
        pieces.append("-".join([f"{part[0]:04d}"] + [f"{p:02d}" for p in part[1:3]]))
    return "/".join(pieces)


def year_text(date: dict[str, Any] | None) -> str:
    """Return the year of a CSL date as text, or ''."""
    parts = _ints(date)
    return str(parts[0][0]) if parts else ""


def write_issued(date: dict[str, Any] | None) -> list[tuple[str, str]]:
    """Return the year, month and (for a day or a range) date fields for a CSL date."""
    if not date:
        return []
    literal = date.get("literal") or date.get("raw")
    parts = _ints(date)
    if not parts:
        return [("year", "{" + encode(str(literal)) + "}")] if literal else []
    first = parts[0]
    fields = [("year", "{" + str(first[0]) + "}")]
    if len(first) > 1 and 1 <= first[1] <= 12:
        fields.append(("month", MONTH_NAMES[first[1] - 1][:3].lower()))
    if len(first) > 2 or len(parts) > 1:
        fields.append(("date", "{" + iso(date) + "}"))
    return fields
