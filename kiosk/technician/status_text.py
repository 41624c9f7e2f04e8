"""The diagnostics overview as text lines for an 80-column terminal (``kiosk diag status``).

One line per item: the level, a label, the value; long values continue on indented lines.
Widths count a CJK character as two columns, as a terminal shows it. Qt-free.
"""

from __future__ import annotations

import unicodedata

from kiosk.technician.queue_notices import notice_line

WIDTH = 80
TAG_W, LABEL_W = 7, 14

_TEXT = {
    "en": {
        "ok": "ok", "warn": "WARN", "fault": "FAULT", "status": "status",
        "kiosk": "kiosk", "config": "config", "data": "data folder",
        "card_reader": "card reader", "printer": "printer", "central": "central",
        "sync": "last contact", "queue": "queue", "menu": "menu", "disk": "disk",
        "disk_full": "DISK FULL",
        "notice": "notice", "demo": "built-in demo configuration", "app": "version",
        "up": "up", "unknown": "unknown", "since": "since", "paper": "paper",
        "offline_only": "offline-only (no central.url)", "reachable": "reachable",
        "unreachable": "unreachable", "token_ok": "token accepted",
        "token_refused": "token refused", "token_unknown": "token not checked",
        "last_sync": "last sync", "heartbeat": "last heartbeat", "never": "never",
        "error": "error", "pending": "pending", "oldest": "oldest", "sent": "sent",
        "rejected": "rejected", "version": "version", "rejected_menu": "rejected",
        "free_of": "free of", "not_open": "not open", "not_running": "app not running",
    },
    "zh_CN": {
        "ok": "正常", "warn": "注意", "fault": "故障", "status": "状态",
        "kiosk": "本机", "config": "配置文件", "data": "数据目录",
        "card_reader": "读卡器", "printer": "打印机", "central": "中心平台",
        "sync": "最近联系", "queue": "队列", "menu": "菜单", "disk": "磁盘",
        "disk_full": "磁盘已满 disk full",
        "notice": "提示", "demo": "内置演示配置", "app": "版本",
        "up": "已运行", "unknown": "未知", "since": "起始", "paper": "纸张",
        "offline_only": "仅离线（未配置 central.url）", "reachable": "可连接",
        "unreachable": "无法连接", "token_ok": "令牌有效", "token_refused": "令牌被拒",
        "token_unknown": "令牌未验证", "last_sync": "最近上传", "heartbeat": "最近心跳",
        "never": "从未", "error": "错误", "pending": "待上传", "oldest": "最早",
        "sent": "已上传", "rejected": "被拒", "version": "版本", "rejected_menu": "被拒菜单",
        "free_of": "可用，共", "not_open": "未打开", "not_running": "程序未运行",
    },
}


def status_lines(status: dict, locale: str = "en") -> list[str]:
    """``collect_status``'s dict as aligned lines, at most ``WIDTH`` columns each."""
    t = _TEXT.get(locale, _TEXT["en"])
    k, c, q, m, d = (status[s] for s in ("kiosk", "central", "queue", "menu", "disk"))
    rows: list[tuple[str, str, str]] = [(status["level"], t["status"], status["time"])]
    if k.get("app_running") is False:
        uptime = t["not_running"]
    else:
        uptime = t["up"] + " " + (duration(k["uptime_s"]) if k.get("uptime_s") is not None
                                  else t["unknown"])
    rows.append((k["level"], t["kiosk"], f"{k['id']}  {t['app']} {k['app_version']}  {uptime}"))
    rows.append(("", t["config"], k["config_path"] or t["demo"]))
    rows.append(("", t["data"], k["data_dir"]))
    rows.extend((k["level"], t["notice"], notice) for notice in k.get("notices", []))
    for name, dev in status["devices"].items():
        paper = f"  {t['paper']} {dev['paper']}" if "paper" in dev else ""
        since = f"  {t['since']} {dev['since']}" if dev.get("since") else ""
        rows.append((dev["level"], t.get(name, name),
                     f"{dev['state']}{paper}  {dev['uri']}  {dev['detail']}{since}"))
    rows.extend(_central_rows(c, t))
    if q.get("pending") is None:
        queue = f"{t['not_open']}  {q.get('error', '')}"
    else:
        oldest = ("" if q["oldest_pending_s"] is None
                  else f" ({t['oldest']} {duration(q['oldest_pending_s'])})")
        queue = (f"{t['pending']} {q['pending']}{oldest}  {t['sent']} {q['sent']}  "
                 f"{t['rejected']} {q['rejected']}")
    rows.append((q["level"], t["queue"], queue))
    rows.extend((q["level"], t["queue"], notice_line(n)) for n in q.get("unreadable") or ())
    menu = f"{t['version']} {m['version']}"
    if m.get("last_rejected"):
        r = m["last_rejected"]
        menu += (f"  {t['rejected_menu']} {r.get('version', '?')}: {r.get('reason', '')}"
                 f"{'  ' + r['at'] if r.get('at') else ''}")
    rows.append((m["level"], t["menu"], menu))
    if d.get("free_bytes") is None:
        disk = f"{d['path']}  {t['error']}: {d.get('error', '')}"
    else:
        disk = f"{size(d['free_bytes'])} {t['free_of']} {size(d['total_bytes'])}  {d['path']}"
    if d.get("full"):
        disk = f"{t['disk_full']}  {disk}"
    rows.append((d["level"], t["disk"], disk))
    lines: list[str] = []
    for level, label, value in rows:
        lines.extend(_row(t.get(level, level) if level else "", label, value))
    return lines


def _central_rows(c: dict, t: dict) -> list[tuple[str, str, str]]:
    if not c["url"]:
        return [(c["level"], t["central"], t["offline_only"])]
    if c["reachable"] is True:
        reach = t["reachable"] + (f" {c['latency_ms']} ms" if c["latency_ms"] is not None else "")
    elif c["reachable"] is False:
        reach = t["unreachable"]
    else:
        reach = t["unknown"]
    token = {True: t["token_ok"], False: t["token_refused"]}.get(c["token_accepted"],
                                                                t["token_unknown"])
    rows = [(c["level"], t["central"], f"{c['url']}  {reach}, {token}")]
    contact = (f"{t['last_sync']} {c['last_sync'] or t['never']}  "
               f"{t['heartbeat']} {c['last_heartbeat'] or t['never']}")
    rows.append(("", t["sync"], contact))
    if c.get("last_error"):
        rows.append(("", t["error"], c["last_error"]))
    return rows


def _row(tag: str, label: str, value: str) -> list[str]:
    head = _pad(tag, TAG_W) + _pad(label, LABEL_W)
    chunks = _wrap(" ".join(value.splitlines()).strip(), WIDTH - TAG_W - LABEL_W)
    indent = " " * (TAG_W + LABEL_W)
    return [(head if i == 0 else indent) + chunk for i, chunk in enumerate(chunks)]


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(1, width - display_width(text))


def _wrap(text: str, width: int) -> list[str]:
    """Break ``text`` into pieces of at most ``width`` columns, at spaces when possible."""
    lines: list[str] = []
    while display_width(text) > width:
        cut, used = 0, 0
        for i, ch in enumerate(text):
            used += display_width(ch)
            if used > width:
                break
            cut = i + 1
        space = text.rfind(" ", 0, cut + 1)
        if space > width // 3:
            cut = space
        lines.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*lines, text] if text or not lines else lines


def duration(seconds: float) -> str:
    """``75`` -> ``1 min``; ``90061`` -> ``1 d 1 h`` (the CLI and the diagnostics screen)."""
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def size(n: float) -> str:
    """Bytes in binary units with one decimal: ``1.5 GB``."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
