"""Register words <-> engineering values: one definition used by the poller (decode) and the simulator's
server (encode), so the two can never disagree about a type, a word order or a scale.

Pipeline of a register value, decode direction::

    words --(type, word order, byte order)--> raw number --(scale, offset)--> signal
    signal --(4-20 mA: NE 43 check, then linear to ``range``)--> engineering value --(``valid``)--> good / bad

Word order "big" = most significant word first (ABCD), "little" = least significant word first (CDAB).
Byte order "big" = most significant byte of each word first, "little" = bytes swapped inside each word (BADC).

NAMUR NE 43: a healthy 4-20 mA transmitter stays within 3.8-20.5 mA (it may saturate a little beyond the span);
at or beyond 3.6 / 21 mA it signals a failure, and the band between is undefined. We accept 3.8 to 20.5 mA
(extrapolating linearly, so a value slightly below 0 % or above 100 % of span stays good) and call
everything outside BAD: the failure signals and the undefined band alike.
"""
from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from acquisition.quality import implausible

NE43_LOW_MA = 3.8
NE43_HIGH_MA = 20.5
_MA_SPAN = 16.0


class Table(StrEnum):
    HOLDING = "holding"
    INPUT = "input"
    COIL = "coil"
    DISCRETE = "discrete"

    @property
    def is_bits(self) -> bool:
        return self in (Table.COIL, Table.DISCRETE)


class RegType(StrEnum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"
    BOOL = "bool"  # coils and discrete inputs

    @property
    def words(self) -> int:
        return 2 if self in (RegType.INT32, RegType.UINT32, RegType.FLOAT32) else 1


REGISTER_TYPES = (RegType.INT16, RegType.UINT16, RegType.INT32, RegType.UINT32, RegType.FLOAT32)
_INT_LIMITS = {
    RegType.INT16: (-0x8000, 0x7FFF),
    RegType.UINT16: (0, 0xFFFF),
    RegType.INT32: (-0x8000_0000, 0x7FFF_FFFF),
    RegType.UINT32: (0, 0xFFFF_FFFF),
}
_F32 = struct.Struct(">f")
_U32 = struct.Struct(">I")


class DecodeError(ValueError):
    """The words cannot be a value of this register (too few words)."""


@dataclass(frozen=True, slots=True)
class Encoding:
    """How one value is laid out in its words and turned into engineering units."""

    type: RegType
    word_order: str = "big"
    byte_order: str = "big"
    scale: float = 1.0
    offset: float = 0.0
    ma_range: tuple[float, float] | None = None  # engineering value at 4 mA and at 20 mA; None = not 4-20 mA
    valid: tuple[float, float] | None = None  # engineering values outside are BAD

    @property
    def words(self) -> int:
        return self.type.words

    # -- decode ---------------------------------------------------------------------------------------
    def raw_from_words(self, words: Sequence[int], at: int = 0) -> float:
        """The raw number stored at ``words[at:]`` (before scale and offset)."""
        t = self.type
        if len(words) < at + t.words:
            raise DecodeError(f"needs {t.words} word(s) at offset {at}, got {len(words) - at}")
        if t.words == 1:
            w = words[at]
            if self.byte_order == "little":
                w = ((w & 0xFF) << 8) | (w >> 8)
            return float(w - 0x10000 if t is RegType.INT16 and w & 0x8000 else w)
        w0, w1 = words[at], words[at + 1]
        if self.byte_order == "little":
            w0, w1 = ((w0 & 0xFF) << 8) | (w0 >> 8), ((w1 & 0xFF) << 8) | (w1 >> 8)
        u = (w0 << 16) | w1 if self.word_order == "big" else (w1 << 16) | w0
        if t is RegType.FLOAT32:
            f32: float = _F32.unpack(_U32.pack(u))[0]
            return f32
        if t is RegType.INT32 and u & 0x8000_0000:
            return float(u - 0x1_0000_0000)
        return float(u)

    def engineering(self, raw: float) -> tuple[float, str | None]:
        """(engineering value, None) when good, or (NaN, why it is bad)."""
        signal = raw * self.scale + self.offset
        if not math.isfinite(signal):
            return math.nan, "not a finite number"
        if self.ma_range is not None:
            if not NE43_LOW_MA <= signal <= NE43_HIGH_MA:
                return math.nan, (f"{signal:.2f} mA is outside {NE43_LOW_MA}-{NE43_HIGH_MA} mA "
                                  f"(NAMUR NE 43: transmitter or loop fault)")
            lo, hi = self.ma_range
            signal = lo + (signal - 4.0) * (hi - lo) / _MA_SPAN
        if self.valid is not None:
            why = implausible(signal, *self.valid, what="valid range")
            if why is not None:
                return math.nan, why
        elif not math.isfinite(signal):  # a span so wide that the conversion overflowed
            return math.nan, "not a finite number"
        return signal, None

    def decode(self, words: Sequence[int], at: int = 0) -> tuple[float, str | None]:
        return self.engineering(self.raw_from_words(words, at))

    # -- encode (the simulator's server; tests) --------------------------------------------------------
    def raw_from_engineering(self, value: float) -> float:
        """The raw number a field device would store for ``value``. A 4-20 mA loop saturates at the NE 43
        limits, as a real transmitter does; NaN (a dead sensor) becomes the NE 43 low failure signal."""
        signal = value
        if self.ma_range is not None:
            lo, hi = self.ma_range
            signal = 3.6 if math.isnan(value) else min(max(4.0 + (value - lo) * _MA_SPAN / (hi - lo),
                                                           NE43_LOW_MA), NE43_HIGH_MA)
        return (signal - self.offset) / self.scale

    def words_from_raw(self, raw: float) -> list[int]:
        t = self.type
        if t is RegType.FLOAT32:
            u = _U32.unpack(_F32.pack(raw))[0]
        else:
            lo, hi = _INT_LIMITS[t]
            # A PLC saturates; NaN has no integer form, so it becomes the type's minimum (an obvious sentinel
            # that a `valid` range turns BAD).
            n = lo if math.isnan(raw) else int(min(max(round(raw), lo), hi))
            u = n & (0xFFFF if t.words == 1 else 0xFFFF_FFFF)
        if t.words == 1:
            words = [u]
        else:
            words = [u >> 16, u & 0xFFFF] if self.word_order == "big" else [u & 0xFFFF, u >> 16]
        if self.byte_order == "little":
            words = [((w & 0xFF) << 8) | (w >> 8) for w in words]
        return words

    def encode(self, value: float) -> list[int]:
        """Engineering value -> the words a device would serve."""
        return self.words_from_raw(self.raw_from_engineering(value))

    def resolution(self) -> float:
        """The largest decode error an encode/decode round trip can add (for comparisons in tests)."""
        if self.type is RegType.FLOAT32:
            return 0.0  # relative error only (float32 rounding), see tests
        step = abs(self.scale) / 2  # integer rounding: half a count
        if self.ma_range is not None:
            step *= abs(self.ma_range[1] - self.ma_range[0]) / _MA_SPAN
        return step
