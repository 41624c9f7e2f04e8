"""``KioskRoutes`` answers the kiosks' paths without Starlette's router: it must match
exactly the paths the router would have sent to the same endpoints, and no other."""

from __future__ import annotations

import pytest
from starlette.routing import Match, Route

from central.web.app import kiosk_route

ROUTES = [Route("/api/v1/transactions", lambda r: None, name="transactions"),
          Route("/api/v1/kiosks/{kiosk_id}/menu", lambda r: None, name="menu"),
          Route("/api/v1/kiosks/{kiosk_id}/heartbeat", lambda r: None, name="heartbeat")]

PATHS = ["/api/v1/transactions", "/api/v1/transactions/", "/api/v1/kiosks/ZJ-001/menu",
         "/api/v1/kiosks/ZJ-001/heartbeat", "/api/v1/kiosks//menu",
         "/api/v1/kiosks/ZJ-001/menu/", "/api/v1/kiosks/ZJ-001/heartbeat/x",
         "/api/v1/kiosks/ZJ-001/release", "/api/v1/kiosks/ZJ-001/commands/c1/upload",
         "/api/v1/kiosks/a b/menu", "/api/v1/kiosks/ZJ.1_x-2/menu", "/api/v1/kiosks/menu",
         "/api/v1/admin/menus", "/admin/fleet", "/", "/api/v1/kiosks/ZJ-001/MENU"]


def _starlette(path: str) -> tuple[str, dict[str, str]] | None:
    for route in ROUTES:
        match, child = route.matches({"type": "http", "path": path, "method": "GET",
                                      "root_path": ""})
        if match == Match.FULL:
            return route.name, child["path_params"]
    return None


@pytest.mark.parametrize("path", PATHS)
def test_kiosk_route_matches_what_the_router_matches(path):
    assert kiosk_route(path) == _starlette(path)
