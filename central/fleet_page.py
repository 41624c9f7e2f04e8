"""The fleet page: ``fleet_report`` as one server-rendered HTML page, no script, no build.

Every value that came from a kiosk or a file is escaped; the page refreshes itself with a
meta refresh.
"""

from __future__ import annotations

from html import escape
from typing import Any

from .fleet import BAD, NEVER, OK, WARN, device_level, duration, paper_level
from .fleet_commands_view import CSS as COMMANDS_CSS
from .fleet_controls import CSS as CONTROLS_CSS
from .fleet_controls import filter_form, groups_table, link, page_links
from .fleet_releases import rollouts_section

_LEVEL_LABEL = {OK: ("正常", "OK"), WARN: ("注意", "Check"), BAD: ("故障", "Problem"),
                NEVER: ("未连接", "Never heard")}
_COLUMNS = [("状态", "Status"), ("终端", "Kiosk"), ("分组", "Group"),
            ("最后心跳", "Last heartbeat"), ("软件版本", "App"), ("菜单版本", "Menu"),
            ("被拒菜单", "Rejected menu"), ("待上传", "Upload queue"), ("读卡器", "Card reader"),
            ("打印机", "Printer"), ("问题", "Issues")]

_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f6f8fa;color:#1f2328;font:14px/1.45 "Noto Sans CJK SC","Noto Sans SC",
"Microsoft YaHei","PingFang SC",system-ui,sans-serif}
header{background:#24292f;color:#fff;padding:16px 28px;display:flex;align-items:baseline;
justify-content:space-between;gap:16px;flex-wrap:wrap}
h1{margin:0;font-size:22px;font-weight:600}
h1 .en{color:#c9d1d9;font-weight:400;margin-left:8px}
.meta{color:#c9d1d9;font-size:13px}
main{padding:18px 28px 28px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:14px}
.card{background:#fff;border:1px solid #d0d7de;border-left-width:6px;border-radius:8px;
padding:8px 16px;min-width:150px}
.card b{display:block;font-size:26px;line-height:1.2}
.card span{color:#57606a;font-size:13px}
.card.ok{border-left-color:#1a7f37}.card.warn{border-left-color:#d4a72c}
.card.bad{border-left-color:#cf222e}.card.never{border-left-color:#8c959f}
.card.all{border-left-color:#0969da}
.menus{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:8px 14px;
margin-bottom:14px;color:#57606a}
.menus .chip{display:inline-block;background:#ddf4ff;color:#0550ae;border-radius:12px;
padding:1px 10px;margin:2px 4px;font-size:13px}
table{width:100%;border-collapse:separate;border-spacing:0;background:#fff;
border:1px solid #d0d7de;border-radius:8px;overflow:hidden}
th{background:#eaeef2;text-align:left;font-weight:600;padding:8px 9px;font-size:13px;
border-bottom:1px solid #d0d7de;vertical-align:bottom;white-space:nowrap}
th small{display:block;font-weight:400;color:#57606a}
td{padding:8px 9px;border-bottom:1px solid #eaeef2;vertical-align:top;white-space:nowrap}
td.wrap{white-space:normal;min-width:130px}
td.issues{width:26%}
tr:last-child td{border-bottom:0}
tr.bad td:first-child{box-shadow:inset 4px 0 #cf222e}
tr.warn td:first-child{box-shadow:inset 4px 0 #d4a72c}
tr.ok td:first-child{box-shadow:inset 4px 0 #1a7f37}
tr.never td{color:#57606a}
tr.never td:first-child{box-shadow:inset 4px 0 #8c959f}
.id{font-family:"DejaVu Sans Mono",ui-monospace,monospace;font-weight:600}
.pill{display:inline-block;border-radius:12px;padding:1px 10px;font-size:12px;font-weight:600;
white-space:nowrap}
.pill.ok{background:#dafbe1;color:#116329}.pill.warn{background:#fff8c5;color:#7d4e00}
.pill.bad{background:#ffebe9;color:#a40e26}.pill.never{background:#eaeef2;color:#57606a}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px}
.dot.ok{background:#1a7f37}.dot.warn{background:#d4a72c}.dot.bad{background:#cf222e}
.dot.never{background:#8c959f}
.muted{color:#8c959f}.sub{display:block;color:#57606a;font-size:12px}
.t-ok{color:#116329}.t-warn{color:#7d4e00}.t-bad{color:#a40e26;font-weight:600}
ul.issues{margin:0;padding:0;list-style:none}
ul.issues li{white-space:normal;padding-left:15px;text-indent:-15px}
.empty{padding:24px;text-align:center;color:#57606a}
"""


def render_fleet(report: dict[str, Any], refresh_s: int = 30, commands: str = "") -> str:
    """The whole page for a ``fleet_report``; ``commands`` is the commands' section."""
    rows = "".join(_row(r) for r in report["kiosks"])
    if not rows:
        empty = ("没有匹配的终端 · No kiosk matches" if report["summary"]["kiosks"]
                 else "没有终端 · No kiosks are configured")
        rows = f'<tr><td colspan="{len(_COLUMNS)}" class="empty">{empty}</td></tr>'

    head = "".join(f"<th>{escape(zh)}<small>{escape(en)}</small></th>" for zh, en in _COLUMNS)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{int(refresh_s)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>终端运行状态 · Kiosk fleet</title>"
        f"<style>{_CSS}{CONTROLS_CSS}{COMMANDS_CSS}</style></head><body>"
        '<header><h1>终端运行状态<span class="en">Kiosk fleet</span></h1>'
        f'<div class="meta">更新于 Updated {escape(_readable(report["generated_at"]))} · '
        f"每 {int(refresh_s)} 秒刷新 refreshes every {int(refresh_s)} s</div></header>"
        f"<main>{_cards(report)}{groups_table(report)}{_menus(report)}"
        f"{rollouts_section(report)}{filter_form(report)}"
        f"{page_links(report)}"
        f'<table id="fleet"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
        f"{page_links(report)}{commands}</main></body></html>\n")


def _cards(report: dict[str, Any]) -> str:
    """The counts over the whole fleet; each card filters the page to its level."""
    summary, filters = report["summary"], report["filters"]
    cards = [("all", summary["kiosks"], "终端总数", "Kiosks")]
    cards += [(level, summary[level], *_LEVEL_LABEL[level]) for level in (OK, WARN, BAD, NEVER)]
    return '<section class="cards">' + "".join(
        f'<div class="card {level}" id="count-{level}"><b>{int(n)}</b>'
        f'<span><a href="{escape(link(filters, status=None if level == "all" else level))}">'
        f"{escape(zh)} · {escape(en)}</a></span></div>"
        for level, n, zh, en in cards) + "</section>"


def _menus(report: dict[str, Any]) -> str:
    chips = []
    names = {"all": ("全部终端", "all kiosks"), "group": ("分组", "group"),
             "kiosk": ("终端", "kiosk")}
    for menu in report["menus"]:
        target = menu["target"]
        zh, en = names.get(target["kind"], ("?", "?"))
        who = f" {target['value']}" if target["value"] else ""
        chips.append(f'<span class="chip">{escape(zh)} {escape(en)}{escape(who)}: '
                     f"v{escape(str(menu['version']))}</span>")
    if report.get("fallback_menu") is not None:
        chips.append(f'<span class="chip">服务器菜单 server menu: '
                     f"v{escape(str(report['fallback_menu']))}</span>")
    listed = "".join(chips) or '<span class="muted">无 none</span>'
    return f'<section class="menus">已发布菜单 Published menus: {listed}</section>'


def _row(r: dict[str, Any]) -> str:
    level = r["level"]
    zh, en = _LEVEL_LABEL[level]
    cells = [
        f'<span class="pill {level}">{escape(zh)} {escape(en)}</span>',
        f'<span class="id">{escape(r["kiosk_id"])}</span>',
        escape(r["group"] or "—"),
        _heartbeat(r),
        escape(r["app_version"] or "—"),
        _menu(r),
        _rejected(r["menu_rejected"]),
        _queue(r["queue"]),
        _device(r["card_reader"]),
        _device(r["printer"]),
        _issues(r["problems"]),
    ]
    wrapping = {6: ' class="wrap"', 10: ' class="wrap issues"'}  # free texts may wrap
    tds = "".join(f"<td{wrapping.get(i, '')}>{c}</td>" for i, c in enumerate(cells))
    return f'<tr class="{level}" data-kiosk="{escape(r["kiosk_id"])}">{tds}</tr>'


def _heartbeat(r: dict[str, Any]) -> str:
    if r["last_heartbeat_at"] is None:
        return '<span class="muted">从未 never</span>'
    age = escape(duration(r["last_heartbeat_age_s"]))
    interval = escape(duration(r["heartbeat_interval_s"]))
    if r["stale"]:
        main = f'<span class="t-bad">{age} 前 ago</span><span class="sub t-bad">超时 stale</span>'
    else:
        main = f'<span class="t-ok">{age} 前 ago</span>'
    return f'{main}<span class="sub">间隔 every {interval}</span>'


def _menu(r: dict[str, Any]) -> str:
    running, serving = r["menu_version"], r["menu_serving"]
    shown = "—" if running is None else f"v{running}"
    source = escape(r.get("menu_source") or "")
    if r["menu_lagging"]:
        return (f'<span class="t-warn" title="{source}">{escape(shown)}</span>'
                f'<span class="sub t-warn">待更新 to v{escape(str(serving))}</span>')
    if serving is not None and running == serving:
        return (f'<span title="{source}">{escape(shown)}</span>'
                '<span class="sub t-ok">最新 latest</span>')
    if running is None and serving is not None:
        return f'<span class="muted" title="{source}">— · 已发布 v{escape(str(serving))}</span>'
    return escape(shown)


def _rejected(rejected: dict[str, Any] | None) -> str:
    if rejected is None:
        return '<span class="muted">—</span>'
    version = "?" if rejected["version"] is None else rejected["version"]
    return (f'<span class="t-bad">v{escape(str(version))}</span>'
            f'<span class="sub">{escape(rejected["reason"])}</span>')


def _queue(queue: dict[str, Any] | None) -> str:
    if queue is None:
        return '<span class="muted">—</span>'
    pending = queue.get("pending") or 0
    text = f"{int(pending)} 条 pending"
    parts = [f'<span class="{"t-ok" if pending == 0 else ""}">{escape(text)}</span>']
    if pending and queue.get("oldest_pending_s") is not None:
        parts.append(f'<span class="sub">最久 oldest {escape(duration(queue["oldest_pending_s"]))}'
                     "</span>")
    if queue.get("rejected"):
        parts.append(f'<span class="sub t-warn">被拒 rejected {int(queue["rejected"])}</span>')
    return "".join(parts)


def _device(device: dict[str, Any] | None) -> str:
    if device is None:
        return '<span class="muted">—</span>'
    state = device["state"]
    level = device_level(state)
    title = f' title="{escape(device["detail"])}"' if device.get("detail") else ""
    out = f'<span{title}><span class="dot {level}"></span>{escape(state)}</span>'
    if "paper" in device:
        paper = device["paper"] or "unknown"
        css = {OK: "t-ok", WARN: "t-warn", BAD: "t-bad"}[paper_level(paper)]
        out += f'<span class="sub {css}">纸 paper {escape(paper)}</span>'
    return out


def _issues(problems: list[dict[str, str]]) -> str:
    if not problems:
        return '<span class="muted">—</span>'
    items = "".join(f'<li><span class="dot {escape(p["level"])}"></span>{escape(p["text"])}</li>'
                    for p in problems)
    return f'<ul class="issues">{items}</ul>'


def _readable(rfc3339: str) -> str:
    """``2026-11-24T09:30:00Z`` as ``2026-11-24 09:30:00 UTC``."""
    return rfc3339.replace("T", " ").removesuffix("Z") + " UTC"
