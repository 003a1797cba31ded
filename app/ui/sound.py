"""The horn: a thin Qt player over :class:`app.annunciation.Annunciator` (which decides when it sounds) and the
SILENCE button.

The sound is the shipped ``sounds/alarm.wav`` (made by :func:`write_alarm_wav`), looped by QtMultimedia's
QSoundEffect while the annunciator says so. QtMultimedia is in PySide6-Addons, which the gateway does not need
otherwise; without it, or without an audio output device, the player says so ONCE in the log and rings the
system bell (``QApplication.beep``) every ``REPEAT_MS`` instead, so the logic stays the same everywhere.
"""
from __future__ import annotations

import logging
import math
import struct
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from app.annunciation import Annunciator
from app.hmi_api import Alarm
from app.ui import theme
from app.ui.widgets.buttons import touch_button

log = logging.getLogger(__name__)

ALARM_WAV = Path(__file__).with_name("sounds") / "alarm.wav"
REPEAT_MS = 1500  # the system-bell fallback: one ring per period while sounding
_RATE = 22050
_TONES = ((880.0, 0.18), (0.0, 0.07), (660.0, 0.18), (0.0, 0.37))  # (Hz, s): two tones then a pause, 0.8 s


def alarm_wav_frames() -> bytes:
    """16-bit mono PCM of one cycle of the horn (deterministic: the shipped file is this, tested)."""
    out = bytearray()
    for hz, seconds in _TONES:
        n = int(_RATE * seconds)
        fade = int(_RATE * 0.01)  # 10 ms ramps: no clicks
        for i in range(n):
            env = min(1.0, i / fade, (n - 1 - i) / fade) if fade else 1.0
            sample = 0.45 * env * math.sin(2 * math.pi * hz * i / _RATE) if hz else 0.0
            out += struct.pack("<h", int(round(sample * 32767)))
    return bytes(out)


def write_alarm_wav(path: Path = ALARM_WAV) -> Path:
    """Write the horn's WAV file (run once at build time; the file is committed beside this module)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(_RATE)
        w.writeframes(alarm_wav_frames())
    return path


def _sound_effect(parent: QObject) -> Any | None:
    """A looping QSoundEffect on the shipped WAV, or None (no QtMultimedia, no audio output: said once)."""
    try:
        from PySide6.QtMultimedia import QMediaDevices, QSoundEffect
    except ImportError:
        log.warning("audible annunciation: QtMultimedia (PySide6-Addons) is not installed; "
                    "ringing the system bell instead")
        return None
    if not QMediaDevices.audioOutputs():
        log.warning("audible annunciation: no audio output device; ringing the system bell instead")
        return None
    effect = QSoundEffect(parent)
    effect.setSource(QUrl.fromLocalFile(str(ALARM_WAV)))
    effect.setLoopCount(QSoundEffect.Loop.Infinite.value)
    effect.setVolume(1.0)
    return effect


class AlarmSound(QObject):
    """Sounds while the annunciator says so; does nothing at all when ``enabled`` is False (the setting)."""

    sig_sounding = Signal(bool)
    """The horn started (True) or stopped (False): the SILENCE button follows it."""

    def __init__(self, enabled: bool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.enabled = enabled
        self.annunciator = Annunciator()
        self.rings = 0  # times the sound was started or the bell rung (tests, diagnostics)
        self._effect: Any | None = None
        self._effect_tried = False
        self._bell = QTimer(self)
        self._bell.setInterval(REPEAT_MS)
        self._bell.timeout.connect(self._ring_bell)
        self._playing = False

    @property
    def playing(self) -> bool:
        return self._playing

    def observe(self, alarms: Sequence[Alarm]) -> None:
        """The alarm list, as the banner gets it."""
        if not self.enabled:
            return
        self._follow(self.annunciator.observe(alarms))

    def silence(self) -> None:
        self.annunciator.silence()
        self._follow(False)

    def stop(self) -> None:
        self._follow(False)

    def _follow(self, sounding: bool) -> None:
        if sounding == self._playing:
            return
        self._playing = sounding
        if sounding:
            self._start()
        else:
            self._bell.stop()
            if self._effect is not None:
                self._effect.stop()
        self.sig_sounding.emit(sounding)

    def _start(self) -> None:
        if not self._effect_tried:
            self._effect_tried = True
            self._effect = _sound_effect(self)
        self.rings += 1
        if self._effect is not None:
            self._effect.play()
            return
        QApplication.beep()
        self._bell.start()

    def _ring_bell(self) -> None:
        self.rings += 1
        QApplication.beep()


def silence_button(sound: AlarmSound, parent: QWidget | None = None) -> QPushButton:
    """SILENCE: quiets the horn without acknowledging; shown only while it sounds. A critical (72 px) target."""
    b = touch_button("SILENCE", size="critical", parent=parent, object_name="silenceButton")
    b.setFixedHeight(theme.TOUCH_CRITICAL)
    b.setMinimumWidth(170)
    b.setToolTip("Silence the alarm sound (the alarms stay unacknowledged)")
    b.clicked.connect(sound.silence)
    sound.sig_sounding.connect(b.setVisible)
    b.hide()
    return b
