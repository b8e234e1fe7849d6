"""Collapse the cites of one citation cluster as ``cs:citation/@collapse`` asks.

- ``citation-number``: runs of three or more consecutive numbers become a range (``[1]–[4]``);
  a repeated number breaks a run (``1, 2, 2–4``).
- ``year``: one author's cites are written once, their years after (``Smith 1900, 2000``),
  joined by ``cite-group-delimiter`` (", " unless set).
- ``year-suffix``: within that, cites of the same year print only their suffix
  (``Smith 2000a, b``), joined by ``year-suffix-delimiter``; ``year-suffix-ranged`` also
  writes runs of three or more suffixes as a range (``2000a–e``).

``group`` (a cite-group-delimiter without collapse): one author's cites, moved together, are
joined by the cite-group delimiter and keep their names (``Smith 2000, Smith 2001``).

A collapsed group is followed by ``after-collapse-delimiter`` rather than the layout's delimiter.
Each cite is given as a ``Piece``: its text and what the cluster code knows about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

EN_DASH = "\u2013"


@dataclass
class Piece:
    """One rendered cite: its text, citation number, the names it opens with and its year
    suffix; ``plain`` is false when a locator, prefix or suffix forbids collapsing."""

    text: str
    number: int
    names: str = ""
    year_suffix: str = ""
    plain: bool = True


def collapse(
    pieces: list[Piece],
    mode: str,
    delimiter: str,
    after_collapse: str | None = None,
    cite_group: str | None = None,
    year_suffix_delimiter: str | None = None,
) -> str:
    """Return a cluster's cites joined, collapsed as ``mode`` says."""
    after = delimiter if after_collapse is None else after_collapse
    if mode == "group":  # grouped, not collapsed: each cite keeps its names
        out = pieces[0].text
        for last, piece in pairwise(pieces):
            same = piece.names and piece.names == last.names and last.plain and piece.plain
            out += (cite_group or ", " if same else delimiter) + piece.text
        return out
    if mode == "citation-number":
        groups = _number_groups(pieces)
    elif mode.startswith("year"):
        # A year's suffixes join with the style's own delimiter, else its cite-group
        # delimiter, else the layout's (citeproc-js's order).
        suffix_delimiter = year_suffix_delimiter or cite_group or delimiter
        group_delimiter = ", " if cite_group is None else cite_group
        groups = _author_groups(pieces, mode, group_delimiter, suffix_delimiter, delimiter)
    else:
        groups = [(p.text, False) for p in pieces]
    out = ""
    for n, (text, collapsed) in enumerate(groups):
        if n:
            out += after if groups[n - 1][1] else delimiter
        out += text
    return out


def _number_groups(pieces: list[Piece]) -> list[tuple[str, bool]]:
    groups: list[tuple[str, bool]] = []
    run: list[Piece] = []

    def flush() -> None:
        if len(run) >= 3:
            groups.append((f"{run[0].text}{EN_DASH}{run[-1].text}", True))
        else:
            groups.extend((p.text, False) for p in run)
        run.clear()

    for piece in pieces:
        follows = run and piece.plain and run[-1].plain and piece.number == run[-1].number + 1
        if run and not follows:
            flush()
        run.append(piece)
    flush()
    return groups


def _author_groups(
    pieces: list[Piece], mode: str, cite_group: str, suffix_delimiter: str, delimiter: str
) -> list[tuple[str, bool]]:
    groups: list[list[Piece]] = []
    for piece in pieces:
        last = groups[-1][-1] if groups else None
        same = (
            last is not None
            and piece.names
            and piece.names == last.names
            and piece.text.startswith(piece.names)
            and last.plain
            and piece.plain
        )
        if same:
            groups[-1].append(piece)
        else:
            groups.append([piece])
    out: list[tuple[str, bool]] = []
    for group in groups:
        if len(group) == 1:
            out.append((group[0].text, False))
            continue
        first = group[0]
        rests = [first.text[len(first.names) :]] + [
            re.sub(r"^[\s,;:]+", "", p.text[len(p.names) :]) for p in group[1:]
        ]
        if not all(rests[1:]):  # a cite with nothing after its names (no date) adds nothing
            keep = [0] + [n for n in range(1, len(group)) if rests[n]]
            group, rests = [group[n] for n in keep], [rests[n] for n in keep]
        if mode in ("year-suffix", "year-suffix-ranged"):
            text = first.names + _suffix_runs(
                group, rests, mode, cite_group, suffix_delimiter, delimiter
            )
        else:
            text = first.names + rests[0] + "".join(cite_group + r for r in rests[1:])
        out.append((text, True))
    return out


def _suffix_runs(
    group: list[Piece],
    rests: list[str],
    mode: str,
    cite_group: str,
    suffix_delimiter: str,
    delimiter: str,
) -> str:
    """Write a group's years, a year's later cites by their suffix alone; after a year whose
    suffixes collapsed the layout's delimiter follows, as citeproc-js writes it."""
    years: list[list[int]] = []
    bases = [_without_suffix(r, p.year_suffix).strip() for r, p in zip(rests, group, strict=True)]
    for n, piece in enumerate(group):
        joins = years and piece.year_suffix and group[years[-1][-1]].year_suffix
        if joins and bases[n] == bases[years[-1][-1]]:
            years[-1].append(n)
        else:
            years.append([n])
    out = ""
    for k, year in enumerate(years):
        head = rests[year[0]]
        suffixes = [group[n].year_suffix for n in year[1:]]
        if mode == "year-suffix-ranged":
            letters = [group[year[0]].year_suffix, *suffixes]
            ranged = _ranges(letters)
            at = head.rfind(letters[0])
            if ranged and ranged[0] != letters[0] and at >= 0:
                head = head[:at] + ranged[0] + head[at + len(letters[0]) :]
            suffixes = ranged[1:]
        if k:
            out += delimiter if len(years[k - 1]) > 1 else cite_group
        out += head + "".join(suffix_delimiter + x for x in suffixes)
    return out


def _without_suffix(text: str, suffix: str) -> str:
    if not suffix:
        return text
    at = text.rfind(suffix)
    return text if at < 0 else text[:at] + text[at + len(suffix) :]


def _ranges(letters: list[str]) -> list[str]:
    """Write runs of three or more consecutive letters as a range: a, c, d, e -> a, c–e."""
    out: list[str] = []
    run: list[str] = []
    for letter in [*letters, ""]:
        if run and letter and len(letter) == 1 and ord(letter) == ord(run[-1]) + 1:
            run.append(letter)
            continue
        if len(run) >= 3:
            out.append(f"{run[0]}{EN_DASH}{run[-1]}")
        else:
            out.extend(run)
        run = [letter] if letter else []
    return out
