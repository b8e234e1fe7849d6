"""The search package's boundaries: who imports Whoosh, who reaches into private names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CODEC = "kb/search/whoosh_codec.py"
SOURCES = sorted(
    path.relative_to(ROOT).as_posix()
    for folder in ("kb", "web", "references", "scripts")
    for path in (ROOT / folder).rglob("*.py")
)


def _tree(relative: str) -> ast.Module:
    return ast.parse((ROOT / relative).read_text(encoding="utf-8"))


def _imports(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
    return found


def _reaches_whoosh(tree: ast.Module) -> bool:
    """Tell whether a module can hold a Whoosh object: it imports Whoosh or the search package."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "kb"
            and any(a.name == "search" for a in node.names)
        ):
            return True
    return any(
        m.split(".")[0] == "whoosh" or m == "kb.search" or m.startswith("kb.search.")
        for m in _imports(tree)
    )


HOLDERS = [
    p for p in SOURCES if p != CODEC and (p.startswith("kb/search/") or _reaches_whoosh(_tree(p)))
]


def _private_reaches(tree: ast.Module) -> list[str]:
    """Return every ``x._name`` where x is not the object's own ``self`` or ``cls``."""
    out = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            out.append(f"line {node.lineno}: .{node.attr}")
    return out


def test_only_the_search_package_imports_whoosh() -> None:
    importers = {
        path
        for path in SOURCES
        if any(m == "whoosh" or m.startswith("whoosh.") for m in _imports(_tree(path)))
    }
    assert importers and all(p.startswith("kb/search/") for p in importers), importers
    assert CODEC in importers


def test_the_modules_that_can_hold_whoosh_objects_are_found() -> None:
    assert {"kb/search/engine.py", "web/search_pages.py", "kb/library.py"} <= set(HOLDERS)


@pytest.mark.parametrize("path", HOLDERS)
def test_no_module_but_the_codec_reaches_into_private_names(path: str) -> None:
    """Whoosh's private names are used in one module (its docstring lists them and why).

    Checked in every module that can hold a Whoosh object: the search package and the modules
    that import it or Whoosh. None reaches ``._`` of anything but its own ``self`` or ``cls``.
    """
    assert _private_reaches(_tree(path)) == []


def test_the_codec_lists_every_private_name_it_uses() -> None:
    tree = _tree(CODEC)
    used = {reach.split(".", 1)[1] for reach in _private_reaches(tree)}
    listed = ast.get_docstring(tree) or ""
    assert used, "the codec is where the private names are"
    missing = sorted(
        name for name in used if f"``{name}" not in listed and f"._{name[1:]}" not in listed
    )
    assert missing == []


def test_the_face_is_small() -> None:
    import kb.search

    verbs = {"search", "keys", "candidates", "sync", "rebuild", "status", "ensure_current", "view"}
    assert verbs <= set(kb.search.__all__)
    assert len(kb.search.__all__) <= 16
