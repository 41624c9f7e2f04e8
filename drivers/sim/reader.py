"""A simulated card reader: the demo and the tests place sample residents' cards on it."""

from __future__ import annotations

import queue
import threading
from urllib.parse import parse_qs, urlsplit

from drivers.base import (
    CardEvent,
    CardEventKind,
    CardReader,
    DeviceState,
    DeviceStatus,
    Identity,
)

# Made-up residents with valid GB 11643 numbers; the last card has expired. Their identities
# say "sim": a simulated card is never mistaken for a real GA 467 read.
SAMPLE_RESIDENTS: tuple[Identity, ...] = (
    Identity(method="sim", name="张建国", id_number="330106195503120016", gender="male",
             birth_date="19550312", valid_to="长期"),
    Identity(method="sim", name="李秀英", id_number="330682194807210028", gender="female",
             birth_date="19480721", valid_to="长期"),
    Identity(method="sim", name="王小明", id_number="331081199008150035", gender="male",
             birth_date="19900815", valid_to="20350815"),
    Identity(method="sim", name="陈桂芳", id_number="330282195201010040", gender="female",
             birth_date="19520101", valid_to="20200101"),
)


class SimCardReader(CardReader):
    """Cards are "placed" with ``present``; ``wait_event`` hands them out in order."""

    def __init__(self, uri: str = "sim:"):
        self.uri = uri
        self._events: queue.Queue[CardEvent] = queue.Queue()
        self._open = False
        self._lock = threading.Lock()
        self.fault: DeviceStatus | None = None

    def open(self) -> None:
        self._open = True
        # ``sim:?card=N`` places sample resident N's card at once: `kiosk diag read-card`
        # on a demo kiosk, and tests of the command line.
        card = parse_qs(urlsplit(self.uri).query).get("card", [""])[0]
        if card.isdigit():
            self.present_sample(int(card))

    def close(self) -> None:
        self._open = False

    def present(self, identity: Identity) -> None:
        self._events.put(CardEvent(CardEventKind.READ, identity=identity))

    def present_sample(self, index: int) -> None:
        self.present(SAMPLE_RESIDENTS[index % len(SAMPLE_RESIDENTS)])

    def present_unreadable(self, reason: str = "simulated read failure") -> None:
        self._events.put(CardEvent(CardEventKind.UNREADABLE, reason=reason))

    def remove(self) -> None:
        self._events.put(CardEvent(CardEventKind.REMOVED))

    def wait_event(self, timeout: float) -> CardEvent | None:
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def status(self) -> DeviceStatus:
        if self.fault is not None:
            return self.fault
        state = DeviceState.ONLINE if self._open else DeviceState.OFFLINE
        return DeviceStatus(state, detail="simulated card reader")
