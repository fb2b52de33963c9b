"""The service guides (办事指南, 一次告知): one page per service item and per 一件事 bundle, and an index, rendered
on the server from the data (the one script is the assistant's chat panel, 智能客服), zh-CN first with English
on a second line, readable on a phone and offline (the typeface and styles are this server's files). Each
page's JSON twin is the API route it links to (``/onestop/items/{code}``, ``/onestop/bundles/{code}``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import FileResponse, HTMLResponse

from cityos.auth import PublicContext, public
from cityos.errors import NotFound
from cityos.onestop.catalogue import Question, shipped
from cityos.onestop.catalogue_routes import bundle_items
from cityos.onestop.forms import form_for
from cityos.onestop.items import bundle, bundles, item, items
from cityos.onestop.models import Bundle, BundleItem, Material, ServiceItem

STATIC = FilePath(__file__).parent / "static"
# the files of the one-stop pages served at /onestop/static/ (the portal's are under static/portal/)
FILES = {"guide.css": "text/css", "verify.js": "text/javascript", "verify.css": "text/css",
         "assistant.js": "text/javascript", "assistant.css": "text/css"}  # fmt: skip
router = APIRouter(tags=["onestop"])
Anyone = Annotated[PublicContext, public("service guides (办事指南): public information, read from the shipped items")]
HANDLING = {"online": ("全程网办", "online"), "on-site": ("窗口办理", "at a service counter"),
            "both": ("网上办理或窗口办理", "online or at a service counter")}  # fmt: skip
KINDS = {"person": ("自然人", "persons"), "enterprise": ("法人及其他组织", "enterprises")}


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _bi(zh: str, en: str, tag: str = "span") -> str:
    """A label in Chinese, and in English on a second line."""
    return f'<{tag} class="zh">{_e(zh)}</{tag}><{tag} class="en" lang="en">{_e(en)}</{tag}>'


def _page(title: str, body: str, twin: str) -> HTMLResponse:
    html = f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)} · 办事指南 · cityos</title>
<link rel="icon" href="data:,">
<link rel="alternate" type="application/json" href="{_e(twin)}">
<link rel="stylesheet" href="/static/fonts.css">
<link rel="stylesheet" href="/onestop/static/guide.css">
<link rel="stylesheet" href="/onestop/static/assistant.css">
<script type="module" src="/onestop/static/assistant.js"></script>
</head>
<body>
<header class="top"><a href="/onestop/guide">{_bi("一网通办 · 办事指南", "One-stop services · guides")}</a></header>
<main id="main">
{body}
</main>
<footer class="bottom"><a href="{_e(twin)}">JSON</a> · {_bi("本页由事项数据生成", "Made from the item data")}</footer>
</body>
</html>"""
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


def _rows(rows: Iterable[tuple[str, str, str]]) -> str:
    """A table of facts: (zh label, English label, value as HTML)."""
    cells = "".join(f'<tr><th scope="row">{_bi(zh, en)}</th><td>{value}</td></tr>' for zh, en, value in rows)
    return f'<table class="facts">{cells}</table>'


def _days(n: int) -> str:
    return _bi(f"{n} 个工作日", f"{n} working day{'s' if n != 1 else ''}")


def _department(code: str) -> str:
    return _e(shipped().departments.get(code, code))


def _certificate(code: str | None) -> str:
    if code is None:
        return _bi("无（办结通知）", "none (a notice of the decision)")
    zh, en = shipped().certificates.get(code, (code, code))
    return f"{_bi(f'电子证照：{zh}', f'e-certificate: {en}')} <code>{_e(code)}</code>"


def _material_source(m: Material) -> str:
    if m.source == "registry":
        zh = f"免于提交：经申请人同意，从{_e(m.registry)}库共享（目录 {_e(m.entry)}：{_e('、'.join(m.items))}）"
        en = "not submitted: fetched from the base registry with your consent"
        return f'<span class="free">{zh}</span><span class="en" lang="en">{en}</span>'
    if m.source == "certificate":
        code = m.certificate_type or ""
        zh, en = shipped().certificates.get(code, (code, code))
        return (f'<span class="free">免于提交：调用电子证照「{_e(zh)}」</span>'
                f'<span class="en" lang="en">not submitted: your e-certificate ({_e(en)})</span>')  # fmt: skip
    return _bi("申请人上传", "uploaded by the applicant")


def _materials(materials: Iterable[Material]) -> str:
    rows = "".join(
        f"<tr><td>{_e(m.name)}</td><td>{_bi('必需', 'required') if m.required else _bi('非必需', 'optional')}</td>"
        f"<td>{_material_source(m)}</td></tr>"
        for m in materials
    )
    head = "".join(f"<th>{_bi(zh, en)}</th>" for zh, en in (("材料名称", "Material"), ("是否必需", "Required"),
                                                             ("来源", "Source")))  # fmt: skip
    head = f"<tr>{head}</tr>"
    return f'<table class="list"><thead>{head}</thead><tbody>{rows}</tbody></table>'


def _list(lines: Iterable[str]) -> str:
    return "<ol>" + "".join(f"<li>{_e(line)}</li>" for line in lines) + "</ol>"


def _section(zh: str, en: str, body: str) -> str:
    return f"<section><h2>{_bi(zh, en)}</h2>{body}</section>"


def item_page(it: ServiceItem) -> str:
    """An item's guide as HTML (the body of the page)."""
    kinds = "、".join(KINDS[k][0] for k in it.applicant_kinds)
    in_bundles = [b for b in bundles() if any(p.item == it.code for p in b.items)]
    facts = _rows([
        ("事项编码", "Item code", f"<code>{_e(it.code)}</code> {_bi(f'第 {it.version} 版', f'version {it.version}')}"),
        ("实施主体", "Implementing department", _department(it.department)),
        ("服务对象", "Who may apply", _bi(kinds, ", ".join(KINDS[k][1] for k in it.applicant_kinds))),
        ("办理形式", "How", _bi(*HANDLING[it.handling])),
        ("法定办结时限", "Legal time limit", _days(it.legal_limit_days)),
        ("承诺办结时限", "Promised time limit", _days(it.promised_limit_days)),
        ("收费标准", "Fee", _e(it.fee)),
        ("办理结果", "Result", _certificate(it.certificate_type)),
    ])  # fmt: skip
    links = "".join(f'<li><a href="/onestop/guide/bundles/{_e(b.code)}">{_bi(b.name, b.name_en)}</a></li>'
                    for b in in_bundles)  # fmt: skip
    return (
        f"<h1>{_bi(it.name, it.name_en)}</h1>"
        + _section("基本信息", "Basic information", facts)
        + _section("设定依据", "Legal basis", _list(it.legal_basis))
        + _section("受理条件", "Conditions", _list(it.conditions))
        + _section("申请材料", "Materials", _materials(it.materials))
        + (_section("可在一件事中办理", "Part of these bundles", f"<ul>{links}</ul>") if in_bundles else "")
        + f'<p class="more"><a href="/onestop/items/{_e(it.code)}/versions">{_bi("版本记录", "Versions")}</a></p>'
    )


def _answer_text(q: Question | None, value: Any) -> tuple[str, str]:
    if q is not None and isinstance(value, bool):
        return ("是", "yes") if value else ("否", "no")
    if q is not None and isinstance(value, str):
        found = next((o for o in q.options if o[0] == value), None)
        if found:
            return found[1], found[2]
    return str(value), str(value)


def _when(part: BundleItem, questions: dict[str, Question]) -> str:
    """When an item applies, as a person reads it: the simple rule ``answer == value`` in words, any other
    rule as its JsonLogic."""
    rule = part.applies_when
    if rule is None:
        return _bi("必办", "always")
    args = rule.get("==")
    if isinstance(args, list) and len(args) == 2 and isinstance(args[0], dict) and "var" in args[0]:
        q = questions.get(str(args[0]["var"]))
        zh, en = _answer_text(q, args[1])
        if q is not None:
            return _bi(f"「{q.label}」选择“{zh}”时办理", f"when “{q.label_en}” is {en}")
    return f"<code>{_e(json.dumps(rule, ensure_ascii=False))}</code>"


def bundle_page(b: Bundle, items: dict[str, ServiceItem]) -> str:
    """A bundle's guide as HTML (the body of the page)."""
    form = form_for(b, items)
    questions = {q.code: q for q in form.questions}
    rows = "".join(
        f'<tr><td><a href="/onestop/guide/{_e(p.item)}">{_bi(items[p.item].name, items[p.item].name_en)}</a></td>'
        f"<td>{_department(items[p.item].department)}</td><td>{_days(items[p.item].promised_limit_days)}</td>"
        f"<td>{_when(p, questions)}</td></tr>"
        for p in b.items
    )
    head = (f"<tr><th>{_bi('事项', 'Item')}</th><th>{_bi('实施主体', 'Department')}</th>"
            f"<th>{_bi('承诺时限', 'Promised')}</th><th>{_bi('何时办理', 'When')}</th></tr>")  # fmt: skip
    materials: dict[str, Material] = {}
    for p in b.items:
        for m in items[p.item].materials:
            materials.setdefault(m.name, m)
    free = sum(1 for m in materials.values() if m.source != "upload")
    asked = "".join(
        f"<li>{_bi(q.label, q.label_en)}{'' if q.required else _bi('（选填）', ' (optional)')}"
        f"{'' if q.show_when is None else _bi('（视前面的回答显示）', ' (shown depending on earlier answers)')}</li>"
        for q in form.questions
    )
    n = len(form.questions)
    count = _bi(f"共 {n} 个问题，每个只问一次", f"{n} questions, each asked once")
    facts = _rows([
        ("牵头部门", "Lead department", _department(b.lead_department)),
        ("服务对象", "Who may apply", _bi(*KINDS[b.applicant_kind])),
        ("办理时限", "Time limit", _days(max(items[p.item].promised_limit_days for p in b.items))),
        ("材料", "Materials", _bi(f"共 {len(materials)} 份，其中 {free} 份免于提交",
                                    f"{len(materials)} in all, {free} of them not submitted")),
    ])  # fmt: skip
    return (
        f"<h1>{_bi(b.name, b.name_en)}</h1><p class=\"lead\">{_e(b.description)}</p>"
        + _section("基本信息", "Basic information", facts)
        + _section("包含事项", "Items", f'<table class="list"><thead>{head}</thead><tbody>{rows}</tbody></table>')
        + _section("一表申请", "One form", f"<p>{count}</p><ol>{asked}</ol>"
                   f'<p class="more"><a href="/onestop/bundles/{_e(b.code)}/form">{_bi("表单", "The form")}</a></p>')
        + _section("申请材料", "Materials", _materials(materials.values()))
    )  # fmt: skip


@router.get("/onestop/static/{name}", include_in_schema=False)
def static(_: Anyone, name: str) -> FileResponse:
    if name not in FILES:
        raise NotFound(f"one-stop services serve no file {name!r}: they serve {', '.join(FILES)}")
    return FileResponse(STATIC / name, media_type=FILES[name], headers={"Cache-Control": "no-cache"})


@router.get("/onestop/guide", response_class=HTMLResponse, include_in_schema=False)
def index(ctx: Anyone) -> HTMLResponse:
    cards = "".join(f'<li><a href="/onestop/guide/bundles/{_e(b.code)}">{_bi(b.name, b.name_en)}</a>'
                    f'<p>{_e(b.description)}</p></li>' for b in bundles())  # fmt: skip
    listed = "".join(f'<li><a href="/onestop/guide/{_e(it.code)}">{_bi(it.name, it.name_en)}</a> '
                    f'<span class="muted">{_department(it.department)}</span></li>'
                    for it in items(ctx.rt, tenant=ctx.tenant))  # fmt: skip
    body = (f'<h1>{_bi("办事指南", "Service guides")}</h1>'
            + _section("一件事", "Bundles (one thing, done once)", f'<ul class="cards">{cards}</ul>')
            + _section("全部事项", "All service items", f"<ul>{listed}</ul>"))  # fmt: skip
    return _page("办事指南", body, "/onestop/bundles")


@router.get("/onestop/guide/bundles/{code}", response_class=HTMLResponse, include_in_schema=False)
def bundle_guide(ctx: Anyone, code: Annotated[str, Path(max_length=64)]) -> HTMLResponse:
    b = bundle(code)
    return _page(b.name, bundle_page(b, bundle_items(ctx.rt, ctx.tenant, b)), f"/onestop/bundles/{b.code}")


@router.get("/onestop/guide/{code}", response_class=HTMLResponse, include_in_schema=False)
def item_guide(ctx: Anyone, code: Annotated[str, Path(max_length=32)]) -> HTMLResponse:
    it = item(ctx.rt, code, tenant=ctx.tenant)
    return _page(it.name, item_page(it), f"/onestop/items/{it.code}")
