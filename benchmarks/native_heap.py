"""glibc's heap, seen and trimmed: ``mallinfo2()`` (bytes in use, free but kept, mmapped) and
``malloc_trim(0)`` (hand free pages back to the system); and SQLite's own count of what it
holds (``sqlite_memory``), a part of glibc's bytes in use. Linux with glibc only: elsewhere
(musl, macOS, Windows) both answer None/False and do nothing."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
from functools import cache

log = logging.getLogger(__name__)


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]


@cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
    except (OSError, AttributeError):  # not glibc: no malloc_trim
        return None
    return libc


def trim() -> bool:
    """``malloc_trim(0)``: give the free memory glibc keeps in its arenas back to the system.
    True when some was released; False when nothing was or this is not glibc."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


def mallinfo() -> dict[str, int] | None:
    """glibc's ``mallinfo2()`` for the main arena and the others together: ``arena`` (bytes
    taken with brk), ``uordblks`` (in use), ``fordblks`` (free but kept), ``hblkhd`` (mmapped
    blocks), ``keepcost`` (releasable at the top). None without glibc 2.33+."""
    libc = _libc()
    fn = getattr(libc, "mallinfo2", None) if libc is not None else None
    if fn is None:
        return None
    fn.restype = _Mallinfo2
    info = fn()
    return {name: int(getattr(info, name)) for name, _ in _Mallinfo2._fields_}


def arenas() -> list[dict[str, int]] | None:
    """Each malloc arena from glibc's ``malloc_info()``: ``nr``, ``system`` (bytes it holds
    from the system now) and ``free`` (of those, free in its bins). None without glibc."""
    import xml.etree.ElementTree as ET

    libc = _libc()
    if libc is None:
        return None
    buf, size = ctypes.c_char_p(), ctypes.c_size_t()
    libc.open_memstream.restype = ctypes.c_void_p
    libc.open_memstream.argtypes = [ctypes.POINTER(ctypes.c_char_p),
                                    ctypes.POINTER(ctypes.c_size_t)]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    libc.free.argtypes = [ctypes.c_void_p]
    stream = libc.open_memstream(ctypes.byref(buf), ctypes.byref(size))
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    try:
        root = ET.fromstring(ctypes.string_at(buf, size.value))
    finally:
        libc.free(buf)
    out = []
    for heap in root.findall("heap"):
        system = heap.find("system[@type='current']")
        free = sum(int(t.get("size")) for t in heap.findall("total")
                   if t.get("type") in ("fast", "rest"))
        out.append({"nr": int(heap.get("nr")), "system": int(system.get("size")), "free": free})
    return out


def sqlite_memory() -> tuple[int, int] | None:
    """SQLite's own count of the bytes it holds (page caches, schemas, statements) in this
    process, now and at most (``sqlite3_status64(SQLITE_STATUS_MEMORY_USED)``), or None."""
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
        status = lib.sqlite3_status64
    except (OSError, AttributeError):
        return None
    status.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_int64),
                       ctypes.POINTER(ctypes.c_int64), ctypes.c_int]
    now, high = ctypes.c_int64(), ctypes.c_int64()
    if status(0, ctypes.byref(now), ctypes.byref(high), 0) != 0:
        return None
    return now.value, high.value
