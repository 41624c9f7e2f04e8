"""The small interfaces every card reader and printer backend implements.

Drivers are Qt-free and blocking; the app shell runs them on a device thread.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Pillow is only needed by backends that print
    from PIL import Image


class DeviceState(enum.StrEnum):
    """XFS4IoT-style device states, as named in the central API spec."""

    ONLINE = "online"
    OFFLINE = "offline"
    BUSY = "busy"
    HWERROR = "hwerror"
    NODEVICE = "nodevice"
    USERERROR = "usererror"


class Paper(enum.StrEnum):
    FULL = "full"
    LOW = "low"
    OUT = "out"
    JAMMED = "jammed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DeviceStatus:
    state: DeviceState
    detail: str = ""
    paper: Paper | None = None  # printers only

    def as_dict(self) -> dict:
        d = {"state": str(self.state), "detail": self.detail}
        if self.paper is not None:
            d["paper"] = str(self.paper)
        return d


class DeviceError(Exception):
    """Base of every driver error; the message is for technicians and logs."""


class DeviceConfigError(DeviceError):
    """A device URI that names no known backend or has bad parameters."""


class PrinterError(DeviceError):
    """A receipt could not be printed; ``status`` says why when known."""

    def __init__(self, message: str, status: DeviceStatus | None = None):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Identity:
    """Who the resident is, as read from a card. Holds personal data: never log it."""

    method: str  # "ga467", "pcsc-uid", "sim", ...
    id_number: str = ""
    name: str = ""
    card_uid: str = ""
    gender: str = ""  # "male" / "female" / ""
    birth_date: str = ""  # YYYYMMDD
    valid_to: str = ""  # YYYYMMDD or "长期"
    extra: dict = field(default_factory=dict)

    def to_wire(self) -> dict:
        """The ``identity`` object of the central API."""
        if self.method == "pcsc-uid":
            return {"method": self.method, "card_uid": self.card_uid}
        d = {"method": self.method, "id_number": self.id_number, "name": self.name}
        d.update(self.extra)
        return d


class CardEventKind(enum.StrEnum):
    READ = "read"  # a card was read; ``identity`` is set
    UNREADABLE = "unreadable"  # a card is there but could not be read
    REMOVED = "removed"


@dataclass(frozen=True)
class CardEvent:
    kind: CardEventKind
    identity: Identity | None = None
    reason: str = ""  # for technicians / logs; never personal data


class CardReader(abc.ABC):
    """A source of card events. ``wait_event`` blocks at most ``timeout`` seconds."""

    uri: str

    @abc.abstractmethod
    def open(self) -> None: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def wait_event(self, timeout: float) -> CardEvent | None:
        """Return the next card event, or None when nothing happened in ``timeout``."""

    @abc.abstractmethod
    def status(self) -> DeviceStatus: ...

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()


class Printer(abc.ABC):
    """A receipt printer. Receipts arrive as rendered 1-bit-friendly raster images."""

    uri: str
    width_dots: int = 384

    @abc.abstractmethod
    def open(self) -> None: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def status(self) -> DeviceStatus: ...

    @abc.abstractmethod
    def print_image(self, image: Image.Image, *, name: str = "") -> None:
        """Print ``image`` and cut. Raises PrinterError when it could not be printed."""

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()
