"""The fleet page's commands: the newest ones, pending and finished, and the latest
screenshot of each kiosk that sent one. HTML only; every value from a kiosk is escaped.
The pictures are served to admins only, under ``/admin/fleet/uploads/{id}`` (the same
HTTP Basic protection space as the page, so the browser sends the admin's credentials)."""

from __future__ import annotations

from html import escape
from typing import Any

from contract.times import rfc3339

SHOWN = 30  # commands listed
SCREENSHOTS = 6  # kiosks whose latest screenshot is shown
_STATUS = {"pending": ("warn", "待发送 pending"), "sent": ("warn", "已下发 sent"),
           "done": ("ok", "完成 done"), "refused": ("bad", "拒绝 refused"),
           "failed": ("bad", "失败 failed"), "expired": ("never", "已过期 expired")}

CSS = """
section.commands{margin-top:18px}
section.commands h2{font-size:17px;margin:0 0 8px}
.shots{display:flex;gap:14px;flex-wrap:wrap;margin-bottom:12px}
.shots figure{margin:0;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:8px}
.shots img{display:block;width:320px;height:auto;border-radius:4px;background:#000}
.shots figcaption{font-size:12px;color:#57606a;margin-top:4px}
"""


def upload_href(command_id: str) -> str:
    return f"/admin/fleet/uploads/{command_id}"


def commands_section(commands: list[dict[str, Any]], uploads: list[dict[str, Any]]) -> str:
    """The section for the page: ``commands`` newest first (store records), ``uploads``
    the kept uploads newest first (store records, without their bytes)."""
    return (f'<section class="commands" id="commands"><h2>远程命令 Fleet commands</h2>'
            f"{_screenshots(uploads)}{_table(commands, uploads)}</section>")


def _screenshots(uploads: list[dict[str, Any]]) -> str:
    latest: dict[str, dict[str, Any]] = {}
    for u in uploads:
        if u["kind"] == "screenshot" and u["kiosk_id"] not in latest:
            latest[u["kiosk_id"]] = u
    figures = [
        f'<figure><a href="{escape(upload_href(u["command_id"]))}">'
        f'<img src="{escape(upload_href(u["command_id"]))}" loading="lazy" '
        f'alt="{escape(k)}"></a><figcaption><span class="id">{escape(k)}</span> · '
        f"{escape(_when(u['received_at']))}</figcaption></figure>"
        for k, u in list(latest.items())[:SCREENSHOTS]]
    return f'<div class="shots" id="screenshots">{"".join(figures)}</div>' if figures else ""


def _table(commands: list[dict[str, Any]], uploads: list[dict[str, Any]]) -> str:
    if not commands:
        return '<p class="muted">没有命令 No commands yet (kiosk-admin command send)</p>'
    kept = {u["command_id"] for u in uploads}
    head = "".join(f"<th>{escape(zh)}<small>{escape(en)}</small></th>" for zh, en in (
        ("下发时间", "Queued"), ("终端", "Kiosk"), ("命令", "Command"), ("管理员", "By"),
        ("状态", "Status"), ("结果", "Detail"), ("完成时间", "Finished")))
    rows = []
    for c in commands[:SHOWN]:
        level, label = _STATUS.get(c["status"], ("never", c["status"]))
        detail = escape(c["detail"] or "")
        if c["id"] in kept:
            detail += f' <a href="{escape(upload_href(c["id"]))}">文件 file</a>'
        cells = [escape(_when(c["created_at"])), f'<span class="id">{escape(c["kiosk_id"])}'
                 "</span>", escape(c["type"]), escape(c["admin"]),
                 f'<span class="pill {level}">{escape(label)}</span>', detail,
                 escape(_when(c["finished_at"]))]
        tds = "".join(f"<td>{cell}</td>" for cell in cells)
        rows.append(f'<tr data-command="{escape(c["id"])}" data-status="{escape(c["status"])}">'
                    f"{tds}</tr>")
    return (f'<table id="commands-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _when(at: float | None) -> str:
    return "—" if at is None else rfc3339(at).replace("T", " ").removesuffix("Z")
