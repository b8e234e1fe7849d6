"""CSL cite disambiguation, which citeproc-py lacks: names, given names, condition, year suffix.

The steps follow the CSL 1.0.2 specification, in its order, over the first cites of one list:

0. with a document-wide ``givenname-disambiguation-rule`` (anything but ``by-cite``), names that
   share a family name but not a given name are expanded everywhere: ``A. F. Moraska`` and
   ``A. Moraska``; ``Juan Yang`` and ``Jing-lan Yang`` when the initials are the same;
1. ``disambiguate-add-names``: show more names, up to all, until the cites differ;
2. ``disambiguate-add-givenname``: add initials, then full given names (``by-cite``);
3. render ``<if disambiguate="true">`` branches for the cites still alike (MLA adds the title);
4. ``disambiguate-add-year-suffix``: ``2009a``, ``2009b`` ... in bibliography order.

Each step keeps only what made a cite unique. ``render`` is the caller's: it renders one cite
in a given state, so the caller can cache renders by state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

Names = Sequence[dict[str, Any]]


@dataclass(frozen=True)
class CiteState:
    """What disambiguation changed in one cite; the default changes nothing."""

    add_names: int = 0  # names to show before "et al." (0: the style's own number)
    givennames: tuple[int, ...] = ()  # per name position: 0 as styled, 1 initials, 2 full
    disambiguate: bool = False  # the value of the disambiguate="true" condition
    year_suffix: str = ""


@dataclass(frozen=True)
class Options:
    """The citation element's disambiguation options."""

    add_names: bool = False
    add_givenname: bool = False
    add_year_suffix: bool = False
    rule: str = "by-cite"
    et_al_min: int = 0
    et_al_use_first: int = 1
    uses_condition: bool = False


def year_suffix(n: int) -> str:
    """Return the n-th year suffix (0 -> a, 25 -> z, 26 -> aa)."""
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def initials(given: str) -> str:
    """Return a given name's initials as CSL styles compare them ("Jing-lan" -> "J")."""
    parts = given.replace(".", " ").replace("-", " -").split()
    return "".join(p.lstrip("-")[0] for p in parts if p.lstrip("-")[:1].isupper())


def _family(name: dict[str, Any]) -> str:
    return " ".join(str(name[p]) for p in ("non-dropping-particle", "family") if name.get(p))


def _shown(names: Names, options: Options) -> int:
    """Return how many names a cite shows before "et al."."""
    if options.rule.startswith("primary-name"):
        return min(1, len(names))
    truncated = options.et_al_min and len(names) >= options.et_al_min and len(names) > 1
    return min(options.et_al_use_first, len(names)) if truncated else len(names)


def _document_wide_givennames(
    all_names: Sequence[Names], options: Options
) -> list[tuple[int, ...]]:
    givens: dict[str, set[str]] = defaultdict(set)
    for names in all_names:
        for name in names[: _shown(names, options)]:
            if name.get("family"):
                givens[_family(name)].add(str(name.get("given") or ""))
    levels: list[tuple[int, ...]] = []
    for names in all_names:
        row = []
        for name in names[: _shown(names, options)]:
            given = str(name.get("given") or "")
            others = givens.get(_family(name), set()) - {given} if name.get("family") else set()
            if not others:
                row.append(0)
            elif initials(given) not in {initials(g) for g in others}:
                row.append(1)
            else:  # initials cannot tell them apart; only full names can, if allowed
                row.append(0 if options.rule.endswith("with-initials") else 2)
        levels.append(tuple(row))
    return levels


def _ambiguous(rendered: dict[int, str]) -> list[list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for index, text in rendered.items():
        groups[text].append(index)
    return [g for g in groups.values() if len(g) > 1]


def disambiguate(
    all_names: Sequence[Names],
    order: Sequence[int],
    options: Options,
    render: Callable[[int, CiteState], str],
) -> list[CiteState]:
    """Return the state that makes each cite unique, as far as the style allows."""
    count = len(all_names)
    states = [CiteState() for _ in range(count)]
    if options.add_givenname and options.rule != "by-cite":
        states = [CiteState(givennames=g) for g in _document_wide_givennames(all_names, options)]
    rendered = {i: render(i, states[i]) for i in range(count)}

    def attempt(
        group: list[int], change: Callable[[int], CiteState | None], partial: bool = False
    ) -> None:
        """Try a change on a group of alike cites; keep it for the cites it made unique (or,
        with ``partial``, less ambiguous: added names stay when they tell some cites apart)."""
        trial = {i: s for i in group if (s := change(i)) is not None}
        texts = {i: render(i, s) for i, s in trial.items()}
        others = [t for j, t in rendered.items() if j not in trial]
        values = list(texts.values())
        before = list(rendered.values())
        alike = {i: before.count(rendered[i]) - 1 for i in texts}
        for i, text in texts.items():
            alike_after = values.count(text) - 1 + others.count(text)
            alike_before = alike[i]
            if alike_after == 0 or partial and alike_after < alike_before:
                states[i], rendered[i] = trial[i], text

    # citeproc-js expands the given names of the names shown before it adds another name, and
    # so do we: "(A. F. Moraska et al.)" rather than "(Moraska, Stenerson, et al.)".
    top = 2 if not options.rule.endswith("with-initials") else 1
    for group in _ambiguous(rendered):
        most = max(len(all_names[i]) for i in group)
        for n in range(options.et_al_use_first, max(most, options.et_al_use_first) + 1):
            alive = [i for i in group if list(rendered.values()).count(rendered[i]) > 1]
            if alive and options.add_names and n > options.et_al_use_first:
                attempt(alive, lambda i, n=n: replace(states[i], add_names=n), partial=True)
                alive = [i for i in alive if list(rendered.values()).count(rendered[i]) > 1]
            if alive and options.add_givenname:
                for level in range(1, top + 1):

                    def expand(i: int, level: int = level, n: int = n) -> CiteState:
                        shown = max(n if states[i].add_names else _shown(all_names[i], options), 1)
                        given = states[i].givennames + (0,) * shown
                        names = states[i].add_names
                        if options.add_names and n > options.et_al_use_first:
                            names = n  # the names added in this round, with given names
                        return replace(
                            states[i],
                            add_names=names,
                            givennames=tuple(max(level, g) for g in given[:shown]),
                        )

                    attempt(alive, expand)
                    alive = [i for i in alive if list(rendered.values()).count(rendered[i]) > 1]
            if not alive or not options.add_names:
                break
    if options.uses_condition:
        for group in _ambiguous(rendered):
            for i in group:
                states[i] = replace(states[i], disambiguate=True)
                rendered[i] = render(i, states[i])
    if options.add_year_suffix:
        position = {index: rank for rank, index in enumerate(order)}
        for group in _ambiguous(rendered):
            for n, i in enumerate(sorted(group, key=position.__getitem__)):
                states[i] = replace(states[i], year_suffix=year_suffix(n))
    return states
