"""Spoken guidance: the screens' prompts read aloud by the voice, never on the GUI thread.

The ``Speaker`` owns the voice (``drivers.voice``) and a single-worker executor that speaks
(phrase after phrase, each waited for). A daemon thread prepares the fixed prompts into the
voice's cache at start and when a menu arrives, so that speaking starts at once; a daemon,
because a cold cache takes many seconds and must never hold up a shutdown (each file is
written atomically). The GUI
thread only hands phrases over; any touch stops speech at once (the Speaker is also an
application-wide event filter, like the idle watcher). Volume steps 100/80/60/40/mute and
returns to the configured level when the visit ends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QWidget

from contract.menu import Menu
from kiosk import i18n
from kiosk.config import VoiceSettings
from screens.spoken import Phrase, fixed_phrases, menu_phrases, service_key

if TYPE_CHECKING:  # drivers.voice is imported with the voice, after the first frame
    from drivers.voice import Prompt, Voice

log = logging.getLogger(__name__)

LEVELS = (100, 80, 60, 40, 0)  # btn:volume steps through these; 0 is mute
ELDER_RATE = 0.75  # elder mode speaks this much slower
MIN_RATE = 80
TEST_WAIT_S = 20

_PRESS = {QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick,
          QEvent.Type.TouchBegin, QEvent.Type.KeyPress}


def next_level(volume: int) -> int:
    """The level after ``volume``: the next one down, and from mute back to the loudest."""
    return next((level for level in LEVELS if level < volume), LEVELS[0])


class Speaker(QObject):
    """Says what the controller's screens show; ``screen`` returns the current screen."""

    volumeChanged = Signal(int)
    prepared = Signal(int)  # how many prompts were made (after a prepare finished)
    _tested = Signal(object, str)  # (callback, error or "") back to the GUI thread

    def __init__(self, settings: VoiceSettings, voice: Voice | Callable[[], Voice], ctl,
                 parent: QObject | None = None):
        """``voice`` may be a factory: it is then called at the voice's first use (after
        the first frame, on the voice's threads), so that start-up does not wait for it."""
        super().__init__(parent)
        self.settings, self._ctl = settings, ctl
        made = hasattr(voice, "speak")  # a Voice, else its factory
        self._voice: Voice | None = voice if made else None
        self._make_voice = None if made else voice
        self._voice_lock = threading.Lock()
        self.volume = settings.volume
        self.screen: Callable[[], object] = lambda: None  # the window sets it
        self.quiet: Callable[[], bool] = lambda: False  # e.g. the idle overlay is up
        self._speaking = ThreadPoolExecutor(1, thread_name_prefix="voice")
        self._prepare_lock = threading.Lock()  # one prepare at a time, the newest list
        self._pending: list[Prompt] | None = None
        self._lock = threading.Lock()  # the generation and the voice's start/stop
        self._generation = 0
        self._last: list[Phrase] = []
        self._announced = ""  # the service whose title was said in this visit
        self._active = False
        self._closed = False
        self._tested.connect(lambda done, error: done(error))

    @property
    def voice(self) -> Voice:
        """The voice, made by the factory at the first call."""
        if self._voice is None:
            with self._voice_lock:
                if self._voice is None:
                    self._voice = self._make_voice()
        return self._voice

    # -- what the window wires ----------------------------------------------------------------
    def start(self, menu: Menu) -> None:
        """The first frame is up: prepare the prompts and say the screen shown."""
        self._active = True
        self.prepare([menu])
        self.on_screen("")

    def on_screen(self, name: str) -> None:
        """A screen appeared: say it (and the chosen service, the first time in a visit)."""
        if name == "home":
            self._end_of_visit()
        screen = self.screen()
        if screen is None or not self._active:
            return
        phrases = list(screen.spoken_text())
        self._last = phrases
        self._say(self._service_phrases() + phrases)

    def on_refresh(self) -> None:
        """The screen re-rendered: say only what is new (a refusal, the receipt printed,
        everything after a language switch)."""
        screen = self.screen()
        if screen is None or not self._active:
            return
        phrases = list(screen.spoken_text())
        new = [p for p in phrases if p not in self._last]
        self._last = phrases
        if new:
            self._say(new)

    def on_field_error(self, message: str) -> None:
        self._say([Phrase(message)])

    def on_overlay_shown(self, heading: str, key: str | None, body: str) -> None:
        """The idle prompt ("still there?") came up."""
        self._say([Phrase(heading, key), Phrase(body)], quiet_ok=True)

    # -- the resident's buttons ----------------------------------------------------------------
    def repeat(self) -> None:
        """``btn:repeat``: the current screen again, even where automatic speech is off."""
        screen = self.screen()
        if screen is not None:
            self._say(list(screen.spoken_text()), asked=True)

    def step_volume(self) -> None:
        """``btn:volume``: one level down, mute after the quietest, then the loudest again."""
        self.volume = next_level(self.volume)
        self.volumeChanged.emit(self.volume)
        if self.volume:
            self._say([Phrase(i18n.tr(self._ctl.locale, "speech.volume", n=self.volume))],
                      asked=True)
        else:
            self.stop()

    def level_text(self) -> str:
        tr = self._ctl.tr
        return tr("speech.volume", n=self.volume) if self.volume else tr("speech.muted")

    # -- speaking ------------------------------------------------------------------------------
    @property
    def elder(self) -> bool:
        return bool(getattr(self._ctl.session, "elder", False))

    @property
    def rate(self) -> int:
        rate = self.settings.rate
        return max(MIN_RATE, int(rate * ELDER_RATE)) if self.elder else rate

    def _say(self, phrases: list[Phrase], *, asked: bool = False,
             quiet_ok: bool = False) -> None:
        """Stop what is being said and say ``phrases``: automatic speech needs ``[voice]
        enabled`` (or elder mode) and nothing covering the screen; all speech needs a volume."""
        if self._closed or not self.volume or not phrases:
            return
        if not asked and not (self.settings.enabled or self.elder):
            return
        if not asked and not quiet_ok and self.quiet():
            return
        gen = self.stop()
        locale, rate, volume = self._ctl.locale, self.rate, self.volume
        self._speaking.submit(self._play, gen, phrases, locale, rate, volume)

    def stop(self) -> int:
        """Silence at once (any touch); phrases not yet begun are dropped."""
        with self._lock:
            self._generation += 1
            if self._voice is not None:  # not made yet: nothing is playing
                self._voice.stop()
            return self._generation

    def _play(self, gen: int, phrases: list[Phrase], locale: str, rate: int,
              volume: int) -> None:
        from drivers.voice import VoiceError

        for phrase in phrases:
            with self._lock:
                if gen != self._generation:
                    return
                try:
                    playback = self.voice.speak(phrase.text, locale, rate=rate,
                                                volume=volume, key=phrase.key)
                except VoiceError as exc:
                    log.warning("speech: %s", exc)
                    return
            try:
                playback.wait()
            except VoiceError as exc:
                log.warning("speech: %s", exc)
                return

    def _service_phrases(self) -> list[Phrase]:
        visit = self._ctl.session.visit
        if visit is None or visit.service is None or visit.service.id == self._announced:
            return []
        self._announced = visit.service.id
        from contract.menu import text

        return [Phrase(text(visit.service.title, self._ctl.locale), service_key(visit.service.id))]

    def _end_of_visit(self) -> None:
        self._announced = ""
        if self.volume != self.settings.volume:
            self.volume = self.settings.volume
            self.volumeChanged.emit(self.volume)

    # -- the cache -----------------------------------------------------------------------------
    def prepare(self, menus: Iterable[Menu]) -> None:
        """Have the fixed prompts and ``menus``' texts ready in both languages, off the GUI
        thread; only what the screens speak, not every text."""
        if self._closed:
            return
        self._pending = list(_prompts(list(menus)))

        def job() -> None:
            with self._prepare_lock:
                prompts, self._pending = self._pending, None
                if prompts is not None and not self._closed:
                    self._prepare(prompts)

        threading.Thread(target=job, name="voice-prepare", daemon=True).start()

    def _prepare(self, prompts: list[Prompt]) -> None:
        from drivers.voice import VoiceError

        try:
            made = self.voice.prepare(prompts)
        except VoiceError as exc:
            log.warning("speech: prompts not prepared: %s", exc)
            return
        except Exception:  # noqa: BLE001 - a cache problem must not stop the kiosk
            log.exception("speech: preparing prompts failed")
            return
        if not self._closed:
            self.prepared.emit(made)

    def offer_menu(self, menu: Menu) -> None:
        """A new menu arrived: prepare its texts beside the one on screen."""
        self.prepare({id(m): m for m in (self._ctl.session.menu, menu)}.values())

    # -- the technician's test -----------------------------------------------------------------
    def test(self, done: Callable[[str], None]) -> None:
        """Say the home prompt at the configured volume, whatever the resident chose;
        ``done(error)`` hears the outcome on the GUI thread ("" when it played)."""
        text, locale = self._ctl.tr("home.subtitle"), self._ctl.locale
        gen = self.stop()

        def job() -> None:
            from drivers.voice import VoiceError

            error = ""
            try:
                with self._lock:
                    if gen != self._generation:
                        return
                    playback = self.voice.speak(text, locale, key="home.subtitle",
                                                volume=self.settings.volume)
                playback.wait(TEST_WAIT_S)
            except VoiceError as exc:
                error = str(exc)
            self._tested.emit(done, error)

        self._speaking.submit(job)

    # -- touches and the end ------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if event.type() in _PRESS:
            self.stop()
        return False

    def shutdown(self) -> None:
        self._closed = True
        self.stop()
        self._speaking.shutdown(wait=True, cancel_futures=True)
        with self._voice_lock:
            if self._voice is not None:
                self._voice.close()


class OverlayWatch(QObject):
    """Tells the speaker when the idle overlay shows its "still there?" prompt."""

    def __init__(self, overlay: QWidget, speaker: Speaker):
        super().__init__(overlay)
        self._overlay, self._speaker = overlay, speaker
        overlay.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        o = self._overlay
        if event.type() == QEvent.Type.Show and not o.stay.isHidden():
            self._speaker.on_overlay_shown(o.heading.text(), "idle.title", o.body.text())
        return False


def _prompts(menus: list[Menu]) -> Iterable[Prompt]:
    from drivers.voice import Prompt

    seen = set()
    for locale in i18n.LOCALES:
        phrases = fixed_phrases(lambda key, _loc=locale: i18n.tr(_loc, key))
        for menu in menus:
            phrases.extend(menu_phrases(menu, locale))
        for p in phrases:
            if p.key and (p.key, p.text, locale) not in seen:
                seen.add((p.key, p.text, locale))
                yield Prompt(p.key, p.text, locale)
