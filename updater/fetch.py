"""Fetching wheels into the content-addressed cache, resuming a cut download.

A wheel is downloaded to ``cache/<sha256>.part`` in ranges (``Range: bytes=N-M``); after a
cut link the next try asks for the rest from the bytes already on disk. A complete file is
hashed, and only a file whose SHA-256 and size are the manifest's is renamed to
``cache/<sha256>``; anything else is removed and reported. A wheel already in the cache is
never fetched again, whatever release lists it.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import requests

from .errors import DownloadError, ReleaseRefused

log = logging.getLogger(__name__)

PIECE = 1024 * 1024  # bytes asked for in one request
TIMEOUT = (10.0, 60.0)


def cached(cache: Path, wheel: Mapping[str, Any]) -> Path | None:
    """The cached file of ``wheel`` when it is there with the right size."""
    path = cache / wheel["sha256"]
    try:
        return path if path.stat().st_size == wheel["size"] else None
    except FileNotFoundError:
        return None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class WheelFetcher:
    """Downloads wheels from a central (``GET /api/v1/wheels/<sha256>``) as one kiosk."""

    def __init__(self, base_url: str, headers: Mapping[str, str], *,
                 verify: bool | str = True, session: requests.Session | None = None,
                 piece: int = PIECE, on_bytes: Callable[[int], None] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers)
        self.verify = verify
        self.session = session or requests.Session()
        self.piece = piece
        self.on_bytes = on_bytes  # counts bytes received (the benchmark reads it)

    def fetch(self, cache: Path, wheel: Mapping[str, Any]) -> Path:
        """The cached, verified file of ``wheel``, downloading what is missing."""
        done = cached(cache, wheel)
        if done is not None:
            return done
        part = cache / f"{wheel['sha256']}.part"
        size = wheel["size"]
        have = part.stat().st_size if part.exists() else 0
        if have > size:
            part.unlink()
            have = 0
        with part.open("ab") as out:
            try:
                while have < size:
                    have += self._range(wheel["sha256"], have,
                                        min(size, have + self.piece) - 1, out)
            finally:  # what arrived before a cut stays: the next try asks for the rest
                out.flush()
                os.fsync(out.fileno())
        if file_sha256(part) != wheel["sha256"]:
            part.unlink()
            raise ReleaseRefused(f"wheel {wheel['name']}: SHA-256 does not match the manifest")
        final = cache / wheel["sha256"]
        os.replace(part, final)
        log.info("wheel %s fetched (%d bytes)", wheel["name"], size)
        return final

    def _range(self, sha256: str, start: int, end: int, out: BinaryIO) -> int:
        """Append bytes ``start``..``end`` of the wheel to ``out`` as they arrive; the
        number appended. A cut connection raises ``DownloadError`` after keeping what came."""
        url = f"{self.base_url}/api/v1/wheels/{sha256}"
        headers = {**self.headers, "Range": f"bytes={start}-{end}"}
        wanted, got = end - start + 1, 0
        try:
            r = self.session.get(url, headers=headers, timeout=TIMEOUT, verify=self.verify,
                                 stream=True)
            with r:
                if r.status_code != 206 or not r.headers.get("Content-Range", "").startswith(
                        f"bytes {start}-"):
                    raise DownloadError(f"wheel {sha256[:12]}: HTTP {r.status_code}, not the "
                                        f"range asked for")
                for chunk in r.iter_content(64 * 1024):
                    chunk = chunk[:wanted - got]
                    out.write(chunk)
                    got += len(chunk)
                    if self.on_bytes is not None:
                        self.on_bytes(len(chunk))
        except requests.RequestException as exc:
            raise DownloadError(f"wheel {sha256[:12]}: cut after {got} bytes of a range "
                                f"({type(exc).__name__})") from None
        if got == 0:
            raise DownloadError(f"wheel {sha256[:12]}: an empty answer")
        return got
