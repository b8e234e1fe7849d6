"""The ``citation-label`` variable citeproc-js makes when an item has none: a trigraph.

One author gives four letters of the family name and the year's last two digits ("Kell09"),
two authors two letters each ("KeRo09"), three authors two, one and one ("KeRS09"), four or
more the first letter of the first four ("KRSW09"). Trigraph styles print it in citations and
bibliographies; the year suffix, when one is needed, follows it ("Kell09a").
"""

from __future__ import annotations

import re
from typing import Any

_LETTERS = {1: (4,), 2: (2, 2), 3: (2, 1, 1)}
_LEADING_PARTICLE = re.compile(r"^[^\W\d_A-Z]+(?=[A-Z])")  # "vonDipheria" files under D


def citation_label(item: dict[str, Any]) -> str | None:
    """Return the trigraph for a CSL-JSON item, or None when it has no names to make it of."""
    names = item.get("author") or item.get("editor")
    if not isinstance(names, list) or not names:
        return None
    families = []
    for name in names[:4]:
        family = name.get("family") or name.get("literal") if isinstance(name, dict) else None
        if not isinstance(family, str) or not family.strip():
            return None
        families.append(_LEADING_PARTICLE.sub("", family.strip()))
    widths = _LETTERS.get(len(families), (1, 1, 1, 1))
    label = "".join(f[:w] for f, w in zip(families, widths, strict=False))
    parts = (
        (item.get("issued") or {}).get("date-parts")
        if isinstance(item.get("issued"), dict)
        else None
    )
    year = str(parts[0][0]) if parts and parts[0] and parts[0][0] not in (None, "") else ""
    return label + year[-2:]
