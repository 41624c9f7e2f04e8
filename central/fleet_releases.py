"""The fleet page's rollouts (issue #15): for each target's newest rollout, how many of
its kiosks are offered it, downloading, switched, healthy or rolled back, and why each
rollback happened."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from .releases import progress

if TYPE_CHECKING:
    from .server import CentralServer

_STATES = (("offered", "已推送", "offered"), ("downloading", "下载中", "downloading"),
           ("switched", "已切换", "switched"), ("healthy", "运行正常", "healthy"),
           ("rolled_back", "已回退", "rolled back"))


def rollouts(central: CentralServer) -> list[dict[str, Any]]:
    """The report's ``rollouts`` (empty without any; the heartbeats are read only then)."""
    store = central.store
    if not store.rollouts():
        return []
    return progress(store, central.kiosks, store.latest_heartbeats())


def rollouts_section(report: dict[str, Any]) -> str:
    items = report.get("rollouts") or []
    if not items:
        return ""
    rows = []
    for r in items:
        kind = r["target"]["kind"]
        who = "全部 all" if kind == "all" else f"{kind} {r['target'][kind]}"
        cells = "".join(f'<td class="n {key}">{int(r[key])}</td>' for key, _, _ in _STATES)
        reasons = "".join(f"<li>{escape(x['kiosk_id'])}: {escape(x['reason'])}</li>"
                          for x in r["rollback_reasons"][:20])
        rows.append(f'<tr id="rollout-{int(r["id"])}"><td>{escape(r["version"])}</td>'
                    f"<td>{escape(who)}</td><td>{float(r['percent']):g}%</td>{cells}"
                    f'<td><ul class="reasons">{reasons}</ul></td></tr>')
    head = "".join(f"<th>{escape(zh)}<small>{escape(en)}</small></th>" for _, zh, en in _STATES)
    return ('<section class="rollouts"><h2>软件发布 <span class="en">Software rollouts</span>'
            '</h2><table id="rollouts"><thead><tr><th>版本<small>version</small></th>'
            "<th>对象<small>target</small></th><th>比例<small>share</small></th>"
            f"{head}<th>回退原因<small>rollback reasons</small></th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></section>")
