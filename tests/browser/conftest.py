"""A live app over a fresh store, and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from web import create_app

ROOT = Path(__file__).resolve().parents[2]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture
def live_server(settings) -> Iterator[str]:
    """Serve the app on a free local port in a thread; yield its base URL."""
    app = create_app(
        {
            "TESTING": True,
            "KB_DATA_DIR": str(settings.data_dir),
            "KB_DATABASE_URL": settings.database_url,
            "KB_WARM_CITATIONS": False,  # no background thread outliving the test's folder
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    """Launch Debian's Chromium; fail (never skip) when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install it with "
            "`apt-get install -y --no-install-recommends chromium chromium-driver` "
            "(never `playwright install`)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def width(request) -> str:  # type: ignore[no-untyped-def]
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def page(browser, live_server, width):  # type: ignore[no-untyped-def]
    """Open a page at desktop or phone width, with downloads and the clipboard allowed."""
    w, h = WIDTHS[width]
    context = browser.new_context(
        viewport={"width": w, "height": h}, accept_downloads=True, base_url=live_server
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.console_errors = errors  # type: ignore[attr-defined]
    yield opened
    context.close()


@pytest.fixture
def shoot(page, width, request):  # type: ignore[no-untyped-def]
    """Return a function that saves a full-page screenshot named by journey, step and width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    journey = request.node.originalname.removeprefix("test_")

    def save(step: str) -> Path:
        path = SCREENSHOTS / f"{journey}-{step}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        # Readable on a phone: nothing pushes the page wider than the screen.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{step} at {width} width scrolls sideways by {overflow}px"
        return path

    return save


@lru_cache(maxsize=1)
def axe_source() -> str:
    """Return axe.min.js from axe-playwright-python, or from node_modules/axe-core."""
    candidates = [ROOT / "node_modules" / "axe-core" / "axe.min.js"]
    try:
        import axe_playwright_python

        candidates.insert(0, Path(axe_playwright_python.__file__).parent / "axe.min.js")
    except ImportError:
        pass
    for path in candidates:
        if path.exists():
            return path.read_text(encoding="utf-8")
    pytest.fail(
        "axe-core is missing: `pip install axe-playwright-python` (ships axe.min.js) "
        "or `npm install axe-core`",
        pytrace=False,
    )


# WCAG 2.0, 2.1 and 2.2 at levels A and AA (2.2 adds target size, among others).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Landmarks each page has once, or with names that tell them apart (best-practice rules of axe).
LANDMARK_RULES = [
    "landmark-unique",
    "landmark-one-main",
    "landmark-no-duplicate-main",
    "landmark-no-duplicate-banner",
    "landmark-no-duplicate-contentinfo",
]


def axe_violations(page: Any, run_only: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run axe on the current page (WCAG 2.2 A and AA rules); return every violation."""
    # Evaluated as a script, not a <script> tag: the page's CSP forbids inline scripts.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    options = {"runOnly": run_only or {"type": "tag", "values": WCAG_TAGS}}
    result = page.evaluate(
        "async (options) => await axe.run(document, {...options, resultTypes: ['violations']})",
        options,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "count": len(v["nodes"]),
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in result["violations"]
    ]


# Every landmark of the page as "role: name"; a role may repeat only under different names.
LANDMARKS_JS = """() => {
  const name = (e) => e.getAttribute('aria-label') || (e.getAttribute('aria-labelledby') || '')
    .split(' ').map((id) => (document.getElementById(id) || {}).textContent || '').join(' ').trim();
  const inSection = (e) => e.parentElement.closest('main, article, aside, nav, section');
  const role = (e) => {
    const tag = e.tagName.toLowerCase();
    if (e.getAttribute('role')) return e.getAttribute('role');
    if (tag === 'header') return inSection(e) ? null : 'banner';
    if (tag === 'footer') return inSection(e) ? null : 'contentinfo';
    if (tag === 'section' || tag === 'form') return name(e) ? (tag === 'form' ? 'form' : 'region') : null;
    return {main: 'main', nav: 'navigation', aside: 'complementary'}[tag] || null;
  };
  const found = [];
  document.querySelectorAll('header, footer, main, nav, aside, section, form, [role]').forEach((e) => {
    const r = role(e);
    if (['banner', 'contentinfo', 'main', 'navigation', 'complementary', 'region', 'search',
         'form'].includes(r)) found.push(r + ': ' + name(e));
  });
  return found;
}"""


def duplicate_landmarks(page: Any) -> list[str]:
    """Return the landmarks that share a role and a name with another on the page."""
    seen = page.evaluate(LANDMARKS_JS)
    return sorted({mark for mark in seen if seen.count(mark) > 1})


def serious_violations(page: Any) -> list[dict[str, Any]]:
    """Return the serious and critical WCAG 2.2 violations, and any landmark that repeats."""
    wcag = [v for v in axe_violations(page) if v["impact"] in ("serious", "critical")]
    landmarks = axe_violations(page, {"type": "rule", "values": LANDMARK_RULES})
    repeated = [
        {"id": "landmark-repeated", "impact": "serious", "help": mark, "nodes": []}
        for mark in duplicate_landmarks(page)
    ]
    return wcag + landmarks + repeated


@pytest.fixture
def assert_accessible() -> Callable[[Any], None]:
    """Return a check that the current page has no serious or critical axe violations."""

    def check(page: Any) -> None:
        violations = serious_violations(page)
        assert not violations, f"{page.url}: {violations}"

    return check


@pytest.fixture
def axe() -> Callable[..., list[dict[str, Any]]]:
    """Return a function that runs axe on a page: WCAG 2.2 A and AA rules, or the rules given."""
    return axe_violations


@pytest.fixture
def landmark_rules() -> list[str]:
    return list(LANDMARK_RULES)


@pytest.fixture
def repeated_landmarks() -> Callable[[Any], list[str]]:
    """Return a function listing the landmarks a page repeats under one role and name."""
    return duplicate_landmarks
