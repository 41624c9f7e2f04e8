"""The fleet page at 20,000 kiosks: counts by level and group over the whole fleet, filters
and paging, from heartbeats in memory (the store is a stand-in: this is about the page)."""

from __future__ import annotations

import time
from html.parser import HTMLParser
from typing import Any

import pytest
import requests
from central_helpers import ADMIN_TOKEN, ADMINS, admin_headers, heartbeat_body

from central.fleet import fleet_report
from central.fleet_page import render_fleet
from central.server import CentralServer

N = 20_000
GROUPS = ["hangzhou", "ningbo", "wenzhou", "shaoxing"]


def kiosk_id(i: int) -> str:
    return f"ZJ-{i:05d}"


class _Beats:
    """``recent_heartbeats`` of a store: kiosk i is healthy, except every 10th has its
    printer out of paper, every 7th is stale, and every 50th never called in."""

    def __init__(self, now: float) -> None:
        self.now = now

    def recent_heartbeats(self, ids: list[str], per_kiosk: int = 2
                          ) -> dict[str, list[tuple[float, dict[str, Any]]]]:
        found = {}
        for kiosk in ids:
            n = int(kiosk.removeprefix("ZJ-"))
            if n % 50 == 0:
                continue
            last = self.now - (3600 if n % 7 == 0 else 30)
            paper = "out" if n % 10 == 0 else "full"
            body = heartbeat_body(kiosk, app_version="0.5.0" if n % 2 else "0.4.0",
                                  queue={"pending": 0, "oldest_pending_s": None, "rejected": 0},
                                  devices={"printer": {"state": "online", "paper": paper}})
            found[kiosk] = [(last, body), (last - 60, body)]
        return found

    def rollouts(self) -> list[dict[str, Any]]:
        return []  # no software rollout (the page's rollouts table is tested elsewhere)


def expected_level(n: int) -> str:
    if n % 50 == 0:
        return "never"
    return "bad" if n % 7 == 0 or n % 10 == 0 else "ok"


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> CentralServer:
    kiosks = {kiosk_id(i): {"token": f"token-{i:05d}-abcdefgh", "group": GROUPS[i % 4]}
              for i in range(N)}
    srv = CentralServer(tmp_path_factory.mktemp("big") / "c.db", kiosks=kiosks, admins=ADMINS)
    srv.store = _Beats(time.time())  # type: ignore[assignment]
    return srv


def test_counts_cover_the_whole_fleet_and_one_page_is_shown(big):
    report = fleet_report(big, now=big.store.now)
    levels = [expected_level(n) for n in range(N)]
    assert report["summary"] == {
        "kiosks": N, "ok": levels.count("ok"), "warn": 0, "bad": levels.count("bad"),
        "never": levels.count("never"),
        "stale": sum(1 for n in range(N) if n % 7 == 0 and n % 50)}
    by_group = {g["group"]: g for g in report["groups"]}
    assert sorted(by_group) == sorted(GROUPS)
    assert sum(g["kiosks"] for g in by_group.values()) == N
    assert by_group["ningbo"]["bad"] == sum(1 for n in range(1, N, 4) if levels[n] == "bad")
    assert report["page"] == {"page": 1, "per_page": 100, "pages": N // 100, "matching": N}
    assert len(report["kiosks"]) == 100
    assert all(r["level"] == "bad" for r in report["kiosks"])  # worst first
    ids = [r["kiosk_id"] for r in report["kiosks"]]
    assert ids == sorted(ids)


def test_filters_and_paging(big):
    def report(**query: str) -> dict[str, Any]:
        return fleet_report(big, now=big.store.now, query=query)

    never = report(status="never", per_page="500")
    assert never["page"]["matching"] == N // 50
    assert {r["kiosk_id"] for r in never["kiosks"]} == {kiosk_id(n) for n in range(0, N, 50)}
    assert report(status="never")["summary"]["kiosks"] == N  # the counts stay the whole fleet

    group = report(group="wenzhou", status="ok")
    assert group["page"]["matching"] == sum(
        1 for n in range(2, N, 4) if expected_level(n) == "ok")
    assert all(r["group"] == "wenzhou" and r["level"] == "ok" for r in group["kiosks"])

    assert report(q="zj-1234")["page"]["matching"] == 10  # ZJ-12340 to ZJ-12349
    assert report(q="1234")["page"]["matching"] == 12  # and ZJ-01234, ZJ-11234
    versions = report(version="0.4.0", per_page="500")
    assert all(r["app_version"] == "0.4.0" for r in versions["kiosks"])

    last = report(page="200")
    assert last["page"]["page"] == 200 and len(last["kiosks"]) == 100
    beyond = report(page="999")
    assert beyond["page"]["page"] == 200  # past the end: the last page
    second = report(page="2")["kiosks"][0]["kiosk_id"]
    assert second not in {r["kiosk_id"] for r in report()["kiosks"]}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.rows = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a":
            self.hrefs.append(attrs["href"])
        if tag == "tr" and "data-kiosk" in attrs:
            self.rows += 1


def test_the_page_shows_group_counts_a_filter_form_and_page_links(big):
    html = render_fleet(fleet_report(big, now=big.store.now, query={"group": "ningbo"}))
    links = _Links()
    links.feed(html)
    assert links.rows == 100
    assert 'id="count-never"><b>400</b>' in html
    assert '<tr data-group="shaoxing">' in html
    assert '<form class="filters" method="get" action="/admin/fleet">' in html
    assert "/admin/fleet?group=ningbo&page=2" in links.hrefs
    assert "/admin/fleet?status=bad&group=ningbo" in links.hrefs


def test_filters_over_http(tmp_path):
    kiosks = {kiosk_id(i): {"token": f"token-{i:05d}-abcdefgh", "group": GROUPS[i % 2]}
              for i in range(5)}
    with CentralServer(tmp_path / "c.db", kiosks=kiosks, admins=ADMINS) as srv:
        for i in (1, 2):
            r = requests.post(f"{srv.url}/api/v1/kiosks/{kiosk_id(i)}/heartbeat", timeout=10,
                              json=heartbeat_body(kiosk_id(i)),
                              headers={"Authorization": f"Bearer token-{i:05d}-abcdefgh",
                                       "X-Kiosk-Id": kiosk_id(i)})
            assert r.status_code == 204
        r = requests.get(f"{srv.url}/api/v1/admin/fleet?status=never&per_page=2",
                         headers=admin_headers(), timeout=10)
        report = r.json()
        assert report["page"] == {"page": 1, "per_page": 2, "pages": 2, "matching": 3}
        assert report["summary"]["kiosks"] == 5 and report["summary"]["never"] == 3
        page = requests.get(f"{srv.url}/admin/fleet?group=ningbo&q=00001",
                            auth=("admin", ADMIN_TOKEN), timeout=10)
        assert page.status_code == 200
        assert 'data-kiosk="ZJ-00001"' in page.text and 'data-kiosk="ZJ-00003"' not in page.text
