"""Opening the queue's SQLite file and its key file durably, and moving a corrupt one aside."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import sqlite_utils

from .crypto import KEY_BYTES, FieldCipher
from .errors import QueueError
from .schema import holds_sealed_values, migrate

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
FOLDER_MODE = 0o700
FILE_MODE = 0o600
#: The systemd credential holding the queue key (LoadCredentialEncrypted=queue-key:...).
CREDENTIAL = "queue-key"
_CORRUPTION_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


class _CorruptDatabase(Exception):
    """The file exists but is not a usable database; the caller moves it aside."""


def open_database(
    path: Path, now: float, key_file: Path
) -> tuple[sqlite_utils.Database, FieldCipher, str | None]:
    """Open (creating if needed) the queue database at ``path``, its rows sealed with the key
    in ``key_file`` (created if needed, while the database holds nothing sealed).

    Returns the database, its cipher and, when the file found there was corrupt, the path it
    was moved to. A corrupt file is never deleted: it may hold transactions a technician can
    still save. Its key file stays where it is, as the fresh database's key.
    """
    private_folder(path.parent)
    try:
        return *_connect(path, key_file), None
    except _CorruptDatabase as exc:
        aside = _move_aside(path, now)
        log.warning(
            "queue database %s is corrupt (%s); moved it to %s and started an empty queue",
            path, exc, aside,
        )
    try:
        return *_connect(path, key_file), str(aside)
    except _CorruptDatabase as exc:
        raise QueueError(f"fresh queue database {path} is unusable: {exc}") from exc


def private_folder(folder: Path) -> None:
    """Create ``folder`` with mode 0700, or tighten it to 0700 with a warning when others can
    read it. A shared sticky folder (/tmp) or one owned by another user is only warned about."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        info = folder.stat()
        mode = stat.S_IMODE(info.st_mode)
        if not mode & 0o077:
            return
        if info.st_mode & stat.S_ISVTX or info.st_uid != os.geteuid():
            log.warning("queue folder %s has mode %03o and is shared; keep the queue in a "
                        "folder of its own", folder, mode)
            return
        folder.chmod(FOLDER_MODE)
        log.warning("queue folder %s had mode %03o; tightened it to 700", folder, mode)
    except OSError as exc:
        raise QueueError(f"cannot create the queue folder {folder}: {exc}") from exc


def _private_files(path: Path) -> None:
    """Create the database file 0600 before SQLite does (SQLite gives its -wal and -shm the
    database file's mode), and tighten the mode of files an older version left looser."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
        for suffix in ("", "-wal", "-shm", "-journal"):
            name = Path(f"{path}{suffix}")
            with contextlib.suppress(FileNotFoundError):
                mode = stat.S_IMODE(name.stat().st_mode)
                if mode & 0o077:
                    name.chmod(FILE_MODE)
                    log.warning("queue file %s had mode %03o; tightened it to 600", name, mode)
    except OSError as exc:
        raise QueueError(f"cannot create the queue database {path}: {exc}") from exc


def _connect(path: Path, key_file: Path) -> tuple[sqlite_utils.Database, FieldCipher]:
    created = not path.exists() or path.stat().st_size == 0
    if not created:
        _check(path)
    _private_files(path)
    try:
        # check_same_thread=False: the queue is built on the GUI thread but its sync worker
        # uses it from a single-worker executor; OfflineQueue's lock serialises every use.
        conn = sqlite3.connect(path, check_same_thread=False)
    except sqlite3.Error as exc:
        raise QueueError(f"cannot open queue database {path}: {exc}") from exc
    try:
        db = sqlite_utils.Database(conn, execute_plugins=False)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.enable_wal()
        if db.journal_mode != "wal":
            log.warning("queue database %s: WAL is not available here", path)
        # Under WAL, synchronous=NORMAL only fsyncs at checkpoints, so transactions committed
        # just before a power cut can roll back. FULL fsyncs the WAL on every commit, so an id
        # that enqueue() returned (and the resident saw) survives a power cut.
        db.execute("PRAGMA synchronous = FULL")
        # The rows hold personal data: with secure_delete SQLite overwrites what it frees
        # (a row's old version after an UPDATE, values purge_personal removes, a table a
        # migration drops) with zeros instead of leaving it in free space, where anyone with
        # a copy of the file could read it. It costs page writes that the fsync of every
        # commit dwarfs. It is a setting of the connection, not the file, hence every open;
        # some builds (Debian's) default to ON, SQLite's own default is OFF.
        db.execute("PRAGMA secure_delete = ON")
        cipher = FieldCipher(_load_key(key_file, may_create=not holds_sealed_values(db)))
        migrate(db, cipher)
    except sqlite3.Error as exc:
        conn.close()
        _raise_open_error(path, exc)
    except BaseException:
        conn.close()
        raise
    if created:
        _fsync_dir(path.parent)
    return db, cipher


def _check(path: Path) -> None:
    """Run ``PRAGMA quick_check`` on an existing file without changing it.

    The connection is read-only: closing a read-write one would checkpoint the -wal into the
    file and delete it, destroying evidence if the file turns out to be corrupt.
    """
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise QueueError(f"cannot open queue database {path}: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # quick_check reads every page (cheap at a queue's size); a file that is not a
        # database at all raises SQLITE_NOTADB instead.
        problems = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.Error as exc:
        _raise_open_error(path, exc)
    finally:
        conn.close()
    if problems != ["ok"]:
        raise _CorruptDatabase("quick_check: " + "; ".join(problems[:3]))


def _raise_open_error(path: Path, exc: sqlite3.Error) -> NoReturn:
    code = getattr(exc, "sqlite_errorcode", -1) & 0xFF
    if code in _CORRUPTION_CODES:
        raise _CorruptDatabase(str(exc)) from exc
    raise QueueError(f"cannot open queue database {path}: {exc}") from exc


def _move_aside(path: Path, now: float) -> Path:
    """Rename ``path`` and its -wal, -shm, -journal to ``<path>.corrupt-<UTC time>``."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    # The -wal goes first: a fresh database next to the old WAL would replay its frames.
    try:
        for suffix in ("-wal", "-shm", "-journal", ""):
            source = Path(f"{path}{suffix}")
            if source.exists():
                os.replace(source, f"{aside}{suffix}")
    except OSError as exc:
        raise QueueError(f"cannot move corrupt queue database {path} aside: {exc}") from exc
    _fsync_dir(path.parent)
    return aside


def _fsync_dir(folder: Path) -> None:
    """Make a file's creation or rename in ``folder`` itself survive a power cut."""
    with contextlib.suppress(OSError):  # best effort: not every platform can open a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def credential_path() -> Path | None:
    """``$CREDENTIALS_DIRECTORY/queue-key`` when systemd passed that credential, else None."""
    folder = os.environ.get("CREDENTIALS_DIRECTORY")
    if not folder:
        return None
    path = Path(folder) / CREDENTIAL
    return path if path.is_file() else None


def _load_key(path: Path, *, may_create: bool) -> bytes:
    """The systemd credential's key when there is one (never created, never chmod'ed: it
    lives on systemd's private read-only mount); otherwise the key at ``path``, created
    first when it is missing and ``may_create``.

    The caller passes ``may_create=False`` when the database already holds sealed values: a
    new key could not open them, and would hide that the right key file is missing.
    """
    credential = credential_path()
    if credential is not None:
        return _read_credential(credential)
    try:
        return _read_key(path)
    except FileNotFoundError:
        if not may_create:
            raise QueueError(
                f"queue key file {path} is missing but the queue holds encrypted "
                "transactions; restore the key file (they cannot be read without it)"
            ) from None
    return _create_key(path)


def _read_credential(path: Path) -> bytes:
    """The key from the decrypted credential: the same 32 raw bytes as a key file."""
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise QueueError(f"cannot read the queue key credential {path}: {exc}") from exc
    if len(key) != KEY_BYTES:
        raise QueueError(f"queue key credential {path} holds {len(key)} bytes, not {KEY_BYTES}"
                         " (it must be an encrypted copy of a queue key file)")
    log.info("queue key read from the systemd credential %s", CREDENTIAL)
    return key


def _read_key(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise QueueError(f"cannot read the queue key file {path}: {exc}") from exc
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o077:
            os.fchmod(fd, 0o600)
            log.warning("queue key file %s had mode %03o; tightened it to 600", path, mode)
        key = os.read(fd, KEY_BYTES + 1)
    except OSError as exc:
        raise QueueError(f"cannot read the queue key file {path}: {exc}") from exc
    finally:
        os.close(fd)
    if len(key) != KEY_BYTES:
        raise QueueError(
            f"queue key file {path} is damaged ({len(key)} bytes, not {KEY_BYTES}); the "
            "queue's transactions cannot be read without the original key, so no new key was made"
        )
    return key


def _create_key(path: Path) -> bytes:
    """Write a new random key so that ``path`` never exists half-written or readable by others.

    The key goes to ``<path>.new`` (O_EXCL, mode 0600 from the start) and is fsynced, then
    hard-linked to ``path``: a power cut leaves either no key file or a whole one, and a link,
    unlike a rename, never replaces a key file another process made meanwhile.
    """
    key = os.urandom(KEY_BYTES)
    temp = path.with_name(path.name + ".new")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp.unlink(missing_ok=True)  # left by a power cut: never linked, so never used
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)  # exactly 0600, whatever the umask
            if os.write(fd, key) != KEY_BYTES:
                raise OSError("short write")
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temp, path)
        except FileExistsError:
            log.info("queue key file %s appeared meanwhile; using it", path)
            return _read_key(path)
        finally:
            temp.unlink()
    except OSError as exc:
        raise QueueError(f"cannot create the queue key file {path}: {exc}") from exc
    _fsync_dir(path.parent)
    log.info("created queue key file %s", path)
    return key
