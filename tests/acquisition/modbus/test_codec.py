"""The codec against independent implementations (struct, pymodbus's own converters) and the NE 43 rules."""
from __future__ import annotations

import math
import struct
from typing import Literal

import pytest
from pymodbus.client import ModbusTcpClient

from acquisition.modbus.codec import NE43_HIGH_MA, NE43_LOW_MA, DecodeError, Encoding, RegType

_FMT = {RegType.INT16: "h", RegType.UINT16: "H", RegType.INT32: "i", RegType.UINT32: "I", RegType.FLOAT32: "f"}
Order = Literal["big", "little"]
SAMPLES: dict[RegType, list[float]] = {
    RegType.INT16: [-32768, -12345, -1, 0, 1, 32767],
    RegType.UINT16: [0, 1, 0x1234, 54321, 65535],
    RegType.INT32: [-2**31, -123456789, -1, 0, 70000, 2**31 - 1],
    RegType.UINT32: [0, 65536, 3123456789, 2**32 - 1],
    RegType.FLOAT32: [0.0, -1234.5, 3.140625, 1e-20, -3.0e38],
}


def struct_words(t: RegType, v: float, word_order: Order, byte_order: Order) -> list[int]:
    """An independent encoder: big-endian bytes ABCD, then CDAB / BADC / DCBA by the orders."""
    b = struct.pack(">" + _FMT[t], v)
    pairs = [b[i:i + 2] for i in range(0, len(b), 2)]
    if word_order == "little":
        pairs.reverse()
    if byte_order == "little":
        pairs = [p[::-1] for p in pairs]
    return [int.from_bytes(p, "big") for p in pairs]


@pytest.mark.parametrize("t", list(SAMPLES))
@pytest.mark.parametrize("word_order", ["big", "little"])
@pytest.mark.parametrize("byte_order", ["big", "little"])
def test_words_agree_with_struct_both_ways(t: RegType, word_order: Order, byte_order: Order) -> None:
    enc = Encoding(t, word_order, byte_order)
    for v in SAMPLES[t]:
        words = struct_words(t, v, word_order, byte_order)
        fmt = ">" + _FMT[t]
        assert enc.raw_from_words(words) == pytest.approx(struct.unpack(fmt, struct.pack(fmt, v))[0])
        assert enc.encode(v) == words


@pytest.mark.parametrize("name,t", [("INT16", RegType.INT16), ("UINT16", RegType.UINT16), ("INT32", RegType.INT32),
                                    ("UINT32", RegType.UINT32), ("FLOAT32", RegType.FLOAT32)])
@pytest.mark.parametrize("word_order", ["big", "little"])
def test_decoding_agrees_with_pymodbus_convert_from_registers(name: str, t: RegType, word_order: Order) -> None:
    dt = getattr(ModbusTcpClient.DATATYPE, name)
    enc = Encoding(t, word_order)
    for v in SAMPLES[t]:
        words = ModbusTcpClient.convert_to_registers(v, dt, word_order=word_order)
        expected = ModbusTcpClient.convert_from_registers(words, dt, word_order=word_order)
        assert enc.raw_from_words(words) == pytest.approx(expected)


def test_scale_offset_and_valid_range() -> None:
    enc = Encoding(RegType.INT16, scale=0.1, offset=-50.0, valid=(-40.0, 150.0))
    assert enc.decode([1234]) == (pytest.approx(73.4), None)
    value, why = enc.decode([2500])  # 200 degC
    assert math.isnan(value) and why is not None and "outside the valid range" in why
    assert enc.decode(enc.encode(21.3))[0] == pytest.approx(21.3, abs=enc.resolution())


def test_four_to_twenty_ma_ne43_limits() -> None:
    enc = Encoding(RegType.UINT16, scale=0.001, ma_range=(0.0, 25.0))  # loop current in uA
    assert enc.decode([4000]) == (0.0, None)
    assert enc.decode([20000]) == (25.0, None)
    assert enc.decode([12000])[0] == pytest.approx(12.5)
    assert enc.decode([3800])[0] == pytest.approx(-0.3125)  # NE 43 saturation band: still good
    assert enc.decode([20500])[0] == pytest.approx(25.78125)
    for ua in (3799, 3600, 0, 20501, 21000, 22000):  # failure signals and the undefined band are BAD
        value, why = enc.decode([ua])
        assert math.isnan(value) and why is not None and "NE 43" in why, ua
    assert (NE43_LOW_MA, NE43_HIGH_MA) == (3.8, 20.5)


def test_four_to_twenty_ma_encoding_saturates_and_nan_is_the_failure_signal() -> None:
    enc = Encoding(RegType.FLOAT32, ma_range=(0.0, 80.0))
    assert enc.raw_from_engineering(40.0) == pytest.approx(12.0)
    assert enc.raw_from_engineering(1000.0) == NE43_HIGH_MA  # a transmitter saturates, it does not fail
    assert enc.raw_from_engineering(-1000.0) == NE43_LOW_MA
    assert math.isnan(enc.decode(enc.encode(math.nan))[0])


def test_integer_encoding_saturates_and_nan_becomes_the_type_minimum() -> None:
    assert Encoding(RegType.INT16).encode(1e9) == [0x7FFF]
    assert Encoding(RegType.UINT16).encode(-5) == [0]
    assert Encoding(RegType.INT16).encode(math.nan) == [0x8000]
    assert math.isnan(Encoding(RegType.INT16, valid=(-100, 100)).decode(Encoding(RegType.INT16).encode(math.nan))[0])


def test_float_nan_and_infinity_are_bad() -> None:
    enc = Encoding(RegType.FLOAT32)
    for v in (math.nan, math.inf, -math.inf):
        value, why = enc.decode(enc.encode(v))
        assert math.isnan(value) and why == "not a finite number"


def test_too_few_words_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="needs 2 word"):
        Encoding(RegType.FLOAT32).decode([0x4000])
    with pytest.raises(DecodeError):
        Encoding(RegType.INT16).decode([1, 2], at=2)
