"""The central's admin API over HTTP (central/README.md): publish a bundle, list versions."""

from __future__ import annotations

from typing import Any

import requests

from .errors import AdminError, Refused

TIMEOUT = (5.0, 60.0)  # connect, read: a 2 MiB menu is checked and stored before the answer


class AdminClient:
    """Talks to one central as one admin; every failure is an ``AdminError`` of one line."""

    def __init__(self, url: str, token: str) -> None:
        url = url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise AdminError(f"--central {url!r}: expected an http:// or https:// URL")
        if not token or any(c.isspace() for c in token):
            raise AdminError("the admin token is empty or has spaces")
        self.url = url
        self._headers = {"Authorization": f"Bearer {token}"}

    def publish(self, bundle: Any, kiosk: str | None = None,
                group: str | None = None) -> dict[str, Any]:
        """Publish ``bundle`` for all kiosks, one ``group`` or one ``kiosk``."""
        body: dict[str, Any] = {"bundle": bundle}
        if kiosk is not None:
            body["kiosk"] = kiosk
        if group is not None:
            body["group"] = group
        return self._call("POST", "/api/v1/admin/menus", json=body)

    def versions(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/admin/menus")

    def wheel_state(self, sha256: str) -> dict[str, Any]:
        """``held`` and ``uploaded`` (bytes so far) of a wheel on the central."""
        return self._call("GET", f"/api/v1/admin/wheels/{sha256}")

    def put_wheel_piece(self, sha256: str, offset: int, data: bytes) -> None:
        self._call("PUT", f"/api/v1/admin/wheels/{sha256}", params={"offset": offset},
                   data=data, extra_headers={"Content-Type": "application/octet-stream"})

    def publish_release(self, signed: Any) -> dict[str, Any]:
        return self._call("POST", "/api/v1/admin/releases", json={"release": signed})

    def rollout(self, version: str, percent: float, group: str | None = None,
                kiosk: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"version": version, "percent": percent}
        if group is not None:
            body["group"] = group
        if kiosk is not None:
            body["kiosk"] = kiosk
        return self._call("POST", "/api/v1/admin/rollouts", json=body)

    def releases(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/admin/releases")

    def fleet(self) -> dict[str, Any]:
        return self._call("GET", "/api/v1/admin/fleet")

    def draft_menu(self, draft_id: int) -> bytes:
        """The canonical bytes of an approved menu draft (what ``menu sign`` signs)."""
        return self._call("GET", f"/api/v1/admin/drafts/{draft_id}/menu", raw=True)

    def _call(self, method: str, path: str, extra_headers: dict[str, str] | None = None,
              raw: bool = False, **kw: Any) -> Any:
        try:
            r = requests.request(method, self.url + path,
                                 headers={**self._headers, **(extra_headers or {})},
                                 timeout=TIMEOUT, **kw)
        except requests.exceptions.SSLError as exc:
            raise AdminError(f"{self.url}: TLS error ({_reason(exc)})") from None
        except requests.exceptions.Timeout:
            raise AdminError(f"{self.url}: no answer in time") from None
        except requests.exceptions.ConnectionError as exc:
            raise AdminError(f"cannot reach {self.url} ({_reason(exc)})") from None
        except requests.exceptions.RequestException as exc:
            raise AdminError(f"{self.url}: {_reason(exc)}") from None
        try:
            doc = r.json()
        except ValueError:
            doc = None
        if r.status_code >= 400:
            message = doc.get("error") if isinstance(doc, dict) else None
            problems = doc.get("problems") if isinstance(doc, dict) else None
            if not message:
                message = r.text[:200].strip() or r.reason
            raise Refused(f"the central answered {r.status_code}: {message}",
                          [str(p) for p in problems] if isinstance(problems, list) else None)
        if r.status_code == 204:
            return {}
        if raw and isinstance(doc, dict):
            return r.content
        if not isinstance(doc, dict):
            raise AdminError(f"{self.url}: the answer ({r.status_code}) is not a JSON object; "
                             "is this a kiosk-central?")
        return doc


def _reason(exc: Exception) -> str:
    """The innermost reason of a requests error, without the URL noise."""
    reason = exc
    while reason.__context__ is not None and reason.__context__ is not reason:
        reason = reason.__context__
    text = str(reason) or type(reason).__name__
    if "Connection refused" in str(exc) or isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    return text.split("] ")[-1][:200]
