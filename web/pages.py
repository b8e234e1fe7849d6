"""The knowledge-base pages: home, about, conditions, modalities, the evidence map, health."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from kb import db, evidence, grading
from web import store
from web.citations import bibliography
from web.params import Params
from web.responses import PageError, respond, twin


def _found(load: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        return load(*args, **kwargs)  # type: ignore[no-any-return]
    except evidence.NotFound as error:
        raise PageError(404, str(error)) from error


def _grades_line() -> dict[str, Any]:
    return evidence.rule()


def home() -> Response | tuple[str, int]:
    """Show the search box and every condition with its studies and grade."""
    Params(request.args, ())
    data = {"conditions": evidence.conditions_overview(store.session()), "rule": _grades_line()}
    return respond("home/index.html", data)


def about() -> Response | tuple[str, int]:
    """Explain designs, findings, grades and where the data comes from."""
    Params(request.args, ())
    data = {
        "rule": _grades_line(),
        "designs": [
            {"value": d, "label": label, "level": grading.level_of(d)}
            for d, label in grading.DESIGN_LABELS.items()
        ],
        "findings": [{"value": f, "label": grading.FINDING_LABELS[f]} for f in grading.FINDINGS],
    }
    return respond("about/index.html", data)


def conditions() -> Response | tuple[str, int]:
    """List the conditions with their number of studies and grade."""
    Params(request.args, ())
    data = {"conditions": evidence.conditions_overview(store.session()), "rule": _grades_line()}
    return respond("conditions/list.html", data)


def _toggle(filters: dict[str, list[str]], name: str, value: str, style: str) -> dict[str, Any]:
    """Return the parameters of the same page with one filter value switched on or off."""
    chosen = {k: list(v) for k, v in filters.items()}
    values = chosen[name]
    if value in values:
        values.remove(value)
    else:
        values.append(value)
    args: dict[str, Any] = {k: v for k, v in chosen.items() if v}
    if style:
        args["style"] = style
    return args


def condition(slug: str) -> Response | tuple[str, int]:
    """Show a condition's grade and rule, its counts, its studies and their bibliography."""
    params = Params(request.args, ("design", "modality", "finding", "style", "page"))
    design = params.values("design", grading.DESIGN_LABELS)
    finding = params.values("finding", grading.FINDINGS)
    modality = params.values("modality")
    style = params.style()
    data = _found(
        evidence.condition_page,
        store.session(),
        slug,
        design=design,
        modality=modality,
        finding=finding,
        page=params.number("page", 1),
    )
    chosen_style = params.text("style")
    for name, items in data["facets"].items():
        for item in items:
            item["toggle"] = _toggle(data["filters"], name, item["value"], chosen_style)
    data["bibliography"] = bibliography(data["keys"], style)
    return respond("conditions/page.html", data)


def modalities() -> Response | tuple[str, int]:
    """List the modalities with the studies and conditions they have evidence for."""
    Params(request.args, ())
    return respond(
        "modalities/list.html", {"modalities": evidence.modalities_overview(store.session())}
    )


def modality(slug: str) -> Response | tuple[str, int]:
    """Show the conditions a modality has evidence for, with their rows and grades."""
    params = Params(request.args, ("style",))
    style = params.style()
    data = _found(evidence.modality_page, store.session(), slug)
    data["bibliography"] = bibliography(data["keys"], style)
    return respond("modalities/page.html", data)


def evidence_map() -> Response | tuple[str, int]:
    """Show conditions x modalities: studies and balance of findings in each cell."""
    Params(request.args, ())
    return respond("map/index.html", evidence.evidence_map(store.session()))


def cell(condition: str, modality: str) -> Response | tuple[str, int]:
    """Show one evidence-map cell: a technique's own grade for a condition, with its rows."""
    params = Params(request.args, ("style", "page"))
    style = params.style()
    data = _found(
        evidence.cell_page, store.session(), condition, modality, page=params.number("page", 1)
    )
    data["bibliography"] = bibliography(data["keys"], style)
    return respond("map/cell.html", data)


def healthz() -> Response:
    """Answer whether the store can be read, with its generation."""
    generation = db.generation(store.session())
    return jsonify({"ok": True, "status": 200, "generation": generation})


def init_app(app: Flask) -> None:
    """Register the pages and their JSON twins."""
    # A fresh blueprint per app: the factory may build several apps in one process.
    blueprint = Blueprint("pages", __name__)
    blueprint.add_url_rule("/", "home", home)
    blueprint.add_url_rule("/about", "about", about)
    twin(blueprint, "/conditions", "conditions", conditions)
    twin(blueprint, "/conditions/<slug>", "condition", condition)
    twin(blueprint, "/modalities", "modalities", modalities)
    twin(blueprint, "/modalities/<slug>", "modality", modality)
    twin(blueprint, "/evidence-map", "evidence_map", evidence_map)
    twin(blueprint, "/evidence-map/<condition>/<modality>", "cell", cell)
    blueprint.add_url_rule("/healthz", "healthz", healthz)
    app.register_blueprint(blueprint)
