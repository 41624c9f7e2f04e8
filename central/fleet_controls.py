"""The fleet page's controls: counts by group, the filter form and the page links.

Plain HTML forms and links (GET, no script): a filter or a page is a query of the page's URL.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode

from .fleet import BAD, LEVELS, NEVER, OK, WARN

PAGE_PATH = "/admin/fleet"
_LEVEL_NAMES = {OK: "正常 OK", WARN: "注意 Check", BAD: "故障 Problem", NEVER: "未连接 Never heard"}

CSS = """
.groups{margin:0 0 16px;border-collapse:collapse;background:#fff;border:1px solid #d0d7de}
.groups th,.groups td{padding:4px 12px;text-align:right;border-bottom:1px solid #eaeef2}
.groups th:first-child,.groups td:first-child{text-align:left}
form.filters{display:flex;gap:10px;flex-wrap:wrap;align-items:end;margin:0 0 12px}
form.filters label{display:flex;flex-direction:column;font-size:12px;color:#57606a}
form.filters input,form.filters select{font:inherit;padding:4px 6px}
.card a{color:inherit;text-decoration:none}
nav.pages{margin:12px 0;display:flex;gap:12px;align-items:center}
"""


def link(filters: dict[str, Any], page: int = 1, **changes: Any) -> str:
    """The page's URL (relative) for ``filters`` with ``changes``, at ``page``."""
    query = {k: v for k, v in {**filters, **changes}.items() if v}
    if page > 1:
        query["page"] = page
    return PAGE_PATH + (f"?{urlencode(query)}" if query else "")


def groups_table(report: dict[str, Any]) -> str:
    """Counts by level for each group; a group's name filters the page to it."""
    groups = report.get("groups") or []
    if len(groups) < 2:
        return ""
    filters = report["filters"]
    head = "".join(f"<th>{escape(_LEVEL_NAMES[level])}</th>" for level in LEVELS)
    rows = []
    for g in groups:
        name = g["group"] or ""
        label = escape(name) if name else '<span class="muted">—</span>'
        cell = f'<a href="{escape(link(filters, group=name))}">{label}</a>' if name else label
        counts = "".join(f"<td>{int(g[level])}</td>" for level in LEVELS)
        rows.append(f'<tr data-group="{escape(name)}"><td>{cell}</td>'
                    f"<td>{int(g['kiosks'])}</td>{counts}</tr>")
    return ('<table class="groups" id="groups"><thead><tr><th>分组 Group</th>'
            f"<th>终端 Kiosks</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def filter_form(report: dict[str, Any]) -> str:
    filters = report["filters"]
    status = "".join(
        f'<option value="{level}"{" selected" if filters["status"] == level else ""}>'
        f"{escape(_LEVEL_NAMES[level])}</option>" for level in LEVELS)
    groups = "".join(
        f'<option value="{escape(g["group"])}"'
        f'{" selected" if filters["group"] == g["group"] else ""}>{escape(g["group"])}</option>'
        for g in report.get("groups") or [] if g["group"])
    return (
        '<form class="filters" method="get" action="/admin/fleet">'
        f'<label>状态 Status<select name="status"><option value="">全部 all</option>{status}'
        "</select></label>"
        f'<label>分组 Group<select name="group"><option value="">全部 all</option>{groups}'
        "</select></label>"
        '<label>软件版本 App version<input name="version" size="10" '
        f'value="{escape(filters["version"] or "")}"></label>'
        '<label>终端 Kiosk id<input name="q" size="16" '
        f'value="{escape(filters["q"] or "")}"></label>'
        '<button type="submit">筛选 Filter</button>'
        f'<a href="/admin/fleet">清除 Clear</a></form>')


def page_links(report: dict[str, Any]) -> str:
    paging, filters = report["page"], report["filters"]
    page, pages = paging["page"], paging["pages"]
    parts = [f'<span id="matching">{int(paging["matching"])} 台匹配 matching · '
             f"第 {int(page)}/{int(pages)} 页 page</span>"]
    if page > 1:
        parts.append(f'<a rel="prev" href="{escape(link(filters, page - 1))}">上一页 Previous</a>')
    if page < pages:
        parts.append(f'<a rel="next" href="{escape(link(filters, page + 1))}">下一页 Next</a>')
    return f'<nav class="pages">{"".join(parts)}</nav>'
