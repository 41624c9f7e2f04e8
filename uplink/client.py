"""HTTP client for the central platform API, version 1 (Qt-free).

``CentralClient`` speaks the wire: headers, bearer token, timeouts, capped response bodies.
It decides nothing about retries; ``uplink.uploader.Uploader`` reads its ``ClientResponse`` against
the spec's table of responses.
"""

from __future__ import annotations

import email.utils
import json
import logging
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests
import urllib3
from requests.structures import CaseInsensitiveDict

from contract.times import rfc3339
from uplink.errors import ClockError, SyncError, TokenError, TransportError

if TYPE_CHECKING:
    from contract.clock import KioskClock

__all__ = ["CentralClient", "ClientResponse", "ClockError", "SyncError", "TokenError",
           "TransportError"]

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # what we read of any answer; more is cut off (``truncated``)
_CHUNK = 16 * 1024
USER_AGENT = "village-kiosk"
CERT_NOT_YET_VALID = 9  # OpenSSL's X509_V_ERR_CERT_NOT_YET_VALID


@dataclass(frozen=True)
class ClientResponse:
    """An HTTP answer. ``body`` holds at most the client's body cap; ``truncated`` says the
    server sent more."""

    status: int
    headers: Mapping[str, str] = field(default_factory=CaseInsensitiveDict)
    body: bytes = b""
    truncated: bool = False

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not (or was cut off)."""
        if self.truncated:
            raise ValueError("the body was cut off at the size limit")
        return json.loads(self.body.decode("utf-8"))

    def text(self, limit: int = 1024) -> str:
        """At most ``limit`` characters of the body as text, for a log line."""
        text = self.body[: limit * 4].decode("utf-8", errors="replace")
        return text if len(text) <= limit else text[:limit] + "…"

    def retry_after(self, now: float) -> float | None:
        """Seconds the ``Retry-After`` header asks us to wait (delta-seconds or an HTTP-date,
        relative to ``now``), or None when there is none or it cannot be read."""
        value = self.headers.get("Retry-After", "").strip()
        if not value:
            return None
        try:
            seconds = float(value)  # delta-seconds; a fraction is accepted too
        except ValueError:
            pass
        else:
            return seconds if 0 <= seconds < float("inf") else None
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT
            return None
        return max(0.0, when.timestamp() - now)


# The operating system's CA store (the spec: trust the system store unless ca_file says
# otherwise); requests would otherwise use certifi's bundle, as trust_env is off.
SYSTEM_CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")


def system_ca_bundle() -> str | None:
    return next((p for p in SYSTEM_CA_BUNDLES if Path(p).is_file()), None)


class CentralClient:
    """A ``requests.Session`` bound to one central platform and one kiosk.

    ``url`` is ``central.url`` (paths are appended; "" means offline-only, and every
    request then raises TransportError). The token is read from ``token_file`` for each
    request, so a technician can fix it without a restart. ``ca_file`` replaces the default
    CA bundle. Every request has ``(connect_timeout, read_timeout)``; reading a body stops
    at ``max_body_bytes`` and after ``body_timeout`` seconds.
    """

    def __init__(
        self,
        url: str,
        kiosk_id: str,
        token_file: str | Path | None,
        ca_file: str | Path | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        body_timeout: float = 60.0,
        clock: KioskClock | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.kiosk_id = kiosk_id
        self.token_file = None if token_file in (None, "") else Path(token_file)
        self.ca_file = None if ca_file in (None, "") else str(ca_file)
        self.timeout = (float(connect_timeout), float(read_timeout))
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        #: Learns the kiosk clock's error from each answer's ``Date`` header.
        self.clock = clock
        self._session = requests.Session()
        # No proxies, netrc or CA bundle from the environment: the kiosk config says where
        # to connect and what to trust, and a stray ~/.netrc must not replace our token.
        self._session.trust_env = False

    def __repr__(self) -> str:
        return f"CentralClient({self.url!r}, {self.kiosk_id!r})"

    def __enter__(self) -> CentralClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def offline_only(self) -> bool:
        """True when no central URL is configured: nothing is ever sent."""
        return not self.url

    def close(self) -> None:
        """Close the session's pooled connections."""
        self._session.close()

    # --- the API ------------------------------------------------------------------------

    def post_transactions(self, transactions: list[dict]) -> ClientResponse:
        """``POST /api/v1/transactions`` with ``transactions`` (wire dicts) as one batch."""
        body = {"kiosk_id": self.kiosk_id, "transactions": transactions}
        return self._request("POST", "/api/v1/transactions", body)

    def post_heartbeat(self, payload: dict) -> ClientResponse:
        """``POST /api/v1/kiosks/{kiosk_id}/heartbeat`` with ``payload``."""
        return self._request("POST", f"/api/v1/kiosks/{self._kiosk_path}/heartbeat", payload)

    def get_menu(self, etag: str | None) -> ClientResponse:
        """``GET /api/v1/kiosks/{kiosk_id}/menu``, conditional on ``etag`` when given."""
        headers = {"If-None-Match": etag} if etag else {}
        return self._request("GET", f"/api/v1/kiosks/{self._kiosk_path}/menu", None, headers)

    def post_upload(self, path: str, data: bytes, content_type: str) -> ClientResponse:
        """``POST`` a file (a screenshot, a diagnostics bundle) to the ``upload_path`` a
        command named; ``path`` must be this kiosk's own."""
        if not path.startswith(f"/api/v1/kiosks/{self._kiosk_path}/"):
            raise TransportError(f"upload path {path[:100]!r} is not this kiosk's")
        return self._request("POST", path, None, {"Content-Type": content_type}, raw=data)

    # --- plumbing -----------------------------------------------------------------------

    @property
    def _kiosk_path(self) -> str:
        return quote(self.kiosk_id, safe="")

    def read_token(self) -> str:
        """The bearer token from the token file; raises TokenError when there is none."""
        if self.token_file is None:
            raise TokenError("no token file is configured")
        try:
            token = self.token_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise TokenError(f"token file {self.token_file} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise TokenError(f"token file {self.token_file} cannot be read: "
                             f"{type(exc).__name__}") from None
        if not token:
            raise TokenError(f"token file {self.token_file} is empty")
        if not token.isascii() or not token.isprintable() or " " in token:
            raise TokenError(f"token file {self.token_file} does not hold one token")
        return token

    def _request(self, method: str, path: str, body: dict | None,
                 extra_headers: dict[str, str] | None = None,
                 raw: bytes | None = None) -> ClientResponse:
        if self.offline_only:
            raise TransportError("no central URL is configured (offline-only)")
        headers = {
            "Authorization": f"Bearer {self.read_token()}",
            "X-Kiosk-Id": self.kiosk_id,
            "Accept": "application/json",
            "Accept-Encoding": "identity",
            "User-Agent": USER_AGENT,
            **(extra_headers or {}),
        }
        data = raw
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        sent_at = self._system_time()
        try:
            response = self._session.request(
                method, self.url + path, data=data, headers=headers, timeout=self.timeout,
                verify=self.ca_file or system_ca_bundle() or True, stream=True,
                allow_redirects=False,
            )
            with response:
                content, truncated = self._read_body(response)
        except requests.RequestException as exc:
            self._raise_clock_problem(exc)
            raise TransportError(_describe(exc)) from exc
        except OSError as exc:  # anything the layers below let through
            raise TransportError(_describe(exc)) from exc
        if self.clock is not None:
            self.clock.observe_date(response.headers.get("Date"), sent_at, self._system_time())
        return ClientResponse(response.status_code, CaseInsensitiveDict(response.headers),
                              content, truncated)

    def _system_time(self) -> float:
        return self.clock.system() if self.clock is not None else time.time()

    def _raise_clock_problem(self, exc: BaseException) -> None:
        """A certificate refused as not yet valid by the kiosk's clock is a clock problem
        (an expired one may well be expired): raise ClockError, and tell the clock."""
        verify = next((c for c in _causes(exc) if isinstance(c, ssl.SSLCertVerificationError)),
                      None)
        if verify is None or verify.verify_code != CERT_NOT_YET_VALID:
            return
        problem = (f"the kiosk's clock looks wrong: by it ({rfc3339(self._system_time())}) "
                   "the central's certificate is not yet valid")
        if self.clock is not None:
            self.clock.report_problem(problem)
        raise ClockError(problem) from exc

    def _read_body(self, response: requests.Response) -> tuple[bytes, bool]:
        """The body, up to the cap; gives up with TransportError after ``body_timeout``."""
        deadline = time.monotonic() + self.body_timeout
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(_CHUNK):
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_body_bytes:
                log.warning("answer to %s cut off at %d bytes", response.request.path_url,
                            self.max_body_bytes)
                return b"".join(chunks)[: self.max_body_bytes], True
            if time.monotonic() > deadline:
                raise TransportError(f"the answer took over {self.body_timeout:g} s to arrive")
        return b"".join(chunks), False


def _describe(exc: BaseException) -> str:
    """A short message for a transport failure (requests' own run to several lines)."""
    causes = _causes(exc)

    def caused_by(*kinds: type[BaseException]) -> bool:
        return any(isinstance(c, kinds) for c in causes)

    if caused_by(requests.exceptions.ConnectTimeout):
        return "connect timed out"
    if caused_by(requests.exceptions.SSLError, ssl.SSLError):
        reason = next((c for c in causes if isinstance(c, ssl.SSLError)), None)
        return f"TLS error {getattr(reason, 'reason', None) or ''}".strip()
    if caused_by(socket.gaierror):
        return "DNS lookup failed"
    if caused_by(ConnectionRefusedError):
        return "connection refused"
    if caused_by(ConnectionResetError):
        return "connection reset"
    if caused_by(BrokenPipeError):
        return "connection closed while sending"
    if caused_by(requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError,
                 TimeoutError):
        return "read timed out"
    if caused_by(requests.exceptions.ChunkedEncodingError, urllib3.exceptions.ProtocolError):
        return "the answer broke off (protocol error)"
    if caused_by(requests.exceptions.InvalidURL, requests.exceptions.MissingSchema):
        return "the central URL is not valid"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:160]}".rstrip(": ")


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc``, its causes and contexts, and exceptions nested in their args (urllib3
    puts the real reason in ``MaxRetryError.reason``)."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 20:
        current = todo.pop()
        if any(current is s for s in seen):
            continue
        seen.append(current)
        todo.extend(c for c in (current.__cause__, current.__context__) if c is not None)
        todo.extend(a for a in current.args if isinstance(a, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
    return seen
