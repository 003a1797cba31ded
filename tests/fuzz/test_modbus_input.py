"""Hostile Modbus data through the real codec, diagnosers, poller and register-map loader.

- the codec: random register words (incl. NaN/inf/denormal float bit patterns) for every type, word order and byte
  order, with random scale/offset, 4-20 mA spans and valid ranges: a value is GOOD, finite and in range, or BAD
  with a reason; never an exception. 4-20 mA outside the NAMUR NE 43 band is BAD.
- hostile frames from a scripted Modbus TCP peer and a scripted RTU slave on a socat serial pair, through the
  real poller: never a crash, nothing GOOD that is implausible, every failure counted under a documented cause,
  and the link recovers (every value GOOD again) once the peer answers correctly.
- the register-map loader with generated bad values and bad files: a RegisterMap or a RegisterMapError whose
  lines name the problem, one per line.
"""
from __future__ import annotations

import copy
import logging
import math
import struct
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from acquisition.channels import CHANNELS, INDEX
from acquisition.modbus import ModbusPoller, RegisterMap, RegisterMapError, load_register_map, parse_register_map
from acquisition.modbus.codec import NE43_HIGH_MA, NE43_LOW_MA, REGISTER_TYPES, DecodeError, Encoding, RegType
from acquisition.modbus.wire import CRC_ERROR, GARBAGE, TIMEOUT, TRUNCATED, UNEXPECTED, diagnose_rtu, diagnose_tcp
from acquisition.quality import Quality
from tests.acquisition.modbus.peers import (
    TCP_MAP,
    ScriptedRtuSlave,
    ScriptedTcpPeer,
    SocatPair,
    crc16,
    have_socat,
)


def unescaped(text: str) -> str | None:
    """The first character a log line or an error must not carry raw, or None."""
    for ch in text:
        if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029" or 0xD800 <= ord(ch) < 0xE000:
            return ch
    return None


WORD = st.integers(0, 0xFFFF)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
SPECIAL_F32 = [math.nan, math.inf, -math.inf, -0.0, 1e-45, 3.4028235e38, -3.4028235e38, 1e30, 1e6]


def f32_patterns(word_order: str, byte_order: str) -> st.SearchStrategy[list[int]]:
    """Two words holding a special float32 (quiet/signalling NaN, inf, denormal, huge) in the given orders."""
    def words(v: float) -> list[int]:
        return Encoding(RegType.FLOAT32, word_order, byte_order).words_from_raw(v)
    nan_payload = st.integers(1, 0x7FFFFF).map(lambda m: struct.unpack(">f", struct.pack(">I", 0x7F800000 | m))[0])
    return st.one_of(st.sampled_from(SPECIAL_F32), nan_payload).map(words)


@st.composite
def encodings(draw: st.DrawFn) -> Encoding:
    t = draw(st.sampled_from(REGISTER_TYPES))
    scale = draw(st.one_of(st.sampled_from([1.0, 0.1, 0.001, -1.0, 1e-30, 1e30]), FINITE.filter(lambda x: x != 0)))
    ma = draw(st.one_of(st.none(), st.tuples(FINITE, FINITE).filter(lambda r: r[0] != r[1])))
    ordered = st.tuples(FINITE, FINITE).map(lambda v: (min(v), max(v)))
    valid = draw(st.one_of(st.none(), ordered.filter(lambda v: v[0] < v[1])))
    return Encoding(t, draw(st.sampled_from(["big", "little"])), draw(st.sampled_from(["big", "little"])), scale,
                    draw(st.one_of(st.just(0.0), FINITE)), ma, valid)


def check_decoded(enc: Encoding, value: float, why: str | None) -> None:
    if why is None:
        assert math.isfinite(value), (enc, value)
        if enc.valid is not None:
            assert enc.valid[0] <= value <= enc.valid[1], (enc, value)
    else:
        assert math.isnan(value) and isinstance(why, str) and why, (enc, value, why)


@given(enc=encodings(), data=st.data())
def test_any_words_decode_to_good_and_in_range_or_bad(enc: Encoding, data: st.DataObject) -> None:
    words = data.draw(st.one_of(st.lists(WORD, min_size=enc.words, max_size=enc.words + 2),
                                f32_patterns(enc.word_order, enc.byte_order) if enc.type is RegType.FLOAT32
                                else st.lists(WORD, min_size=enc.words, max_size=enc.words)))
    check_decoded(enc, *enc.decode(words))
    if enc.ma_range is not None:  # NAMUR NE 43: only 3.8..20.5 mA is a measurement
        signal = enc.raw_from_words(words) * enc.scale + enc.offset
        if not (math.isfinite(signal) and NE43_LOW_MA <= signal <= NE43_HIGH_MA):
            assert enc.decode(words)[1] is not None, (enc, signal)
    with pytest.raises(DecodeError):
        enc.decode(words[:enc.words - 1]) if enc.words > 1 else enc.decode([])


@given(ma=st.one_of(st.floats(0.0, 30.0), st.sampled_from([3.6, 3.79, 3.8, 20.5, 20.51, 21.0, 0.0])),
       lo_hi=st.tuples(st.floats(-1e3, 1e3), st.floats(1e-3, 1e3), st.booleans()).map(
           lambda r: (r[0], r[0] + r[1] if r[2] else r[0] - r[1])),  # a rising or a falling span
       t=st.sampled_from([RegType.UINT16, RegType.UINT32, RegType.FLOAT32]))
def test_4_20ma_outside_the_namur_band_is_bad(ma: float, lo_hi: tuple[float, float], t: RegType) -> None:
    scale = 1.0 if t is RegType.FLOAT32 else 0.001  # float in mA; integers in uA
    enc = Encoding(t, scale=scale, ma_range=lo_hi)
    words = enc.words_from_raw(ma / scale)
    value, why = enc.decode(words)
    signal = enc.raw_from_words(words) * scale
    if NE43_LOW_MA <= signal <= NE43_HIGH_MA:
        lo, hi = lo_hi
        assert why is None and value == pytest.approx(lo + (signal - 4.0) * (hi - lo) / 16.0, rel=1e-9, abs=1e-9)
    else:
        assert math.isnan(value) and why is not None and "NE 43" in why


@given(request=st.binary(max_size=16), rx=st.binary(max_size=300))
def test_the_diagnosers_name_a_cause_for_any_bytes(request: bytes, rx: bytes) -> None:
    causes = {TIMEOUT, CRC_ERROR, TRUNCATED, GARBAGE, UNEXPECTED}
    assert diagnose_rtu(request, rx) in causes
    assert diagnose_tcp(request, rx) in causes


# -- hostile frames through the real poller -------------------------------------------------------------------------
# One device, every channel in one read of holding 0..12, every decoding path (float32 in three orders, int16,
# byte-swapped int16, int32 CDAB, uint32 DCBA, two 4-20 mA loops), no `valid`: the plausible ranges apply.
REGISTERS = [
    {"channel": "vib_de", "table": "holding", "address": 0, "type": "float32"},
    {"channel": "vib_nde", "table": "holding", "address": 2, "type": "float32", "word_order": "little"},
    {"channel": "current", "table": "holding", "address": 4, "type": "uint16", "scale": 0.001, "signal": "4-20mA",
     "range": [0.0, 25.0]},
    {"channel": "pressure", "table": "holding", "address": 5, "type": "int32", "word_order": "little", "scale": 0.001},
    {"channel": "motor_temp", "table": "holding", "address": 7, "type": "int16", "scale": 0.1},
    {"channel": "fluid_temp", "table": "holding", "address": 8, "type": "int16", "byte_order": "little", "scale": 0.1},
    {"channel": "voltage", "table": "holding", "address": 9, "type": "uint32", "word_order": "little",
     "byte_order": "little", "scale": 0.01},
    {"channel": "flow", "table": "holding", "address": 11, "type": "float32", "byte_order": "little",
     "signal": "4-20mA", "range": [0.0, 80.0]},
]
SOUND = {"vib_de": 2.5, "vib_nde": 1.75, "current": 12.0, "pressure": 4.25, "motor_temp": 61.5, "fluid_temp": 24.5,
         "voltage": 398.0, "flow": 50.0}
N_WORDS = 13
MODBUS_CAUSES = {f"modbus_{c}" for c in ("timeout", "crc_error", "truncated_frame", "garbage", "unexpected_response",
                                         "exception_response", "short_response", "connect_failed", "connection_lost",
                                         "protocol_error")}


def plant(link: dict) -> RegisterMap:
    return parse_register_map({"device": [{
        "name": "fuzzed", "asset": "F-1", "device_id": 1, "poll_interval_s": 0.05, "timeout_s": 0.12, "max_gap": 0,
        "reconnect_min_s": 0.02, "reconnect_max_s": 0.05, **link, "register": REGISTERS}]})


def bank_for(p: RegisterMap) -> list[int]:
    bank = [0] * N_WORDS
    for r in p.devices[0].registers:
        bank[r.address:r.address + r.encoding.words] = r.encoding.encode(SOUND[r.channel])
    return bank


def check_snapshot(p: RegisterMap, poller: ModbusPoller) -> None:
    values, quality = poller.held.snapshot()
    for r in p.devices[0].registers:
        c = INDEX[r.channel]
        if quality[0, c] == Quality.GOOD:
            assert math.isfinite(values[0, c]), (r.channel, values[0, c])
            lo, hi = r.encoding.valid or (-math.inf, math.inf)
            assert lo <= values[0, c] <= hi, (r.channel, values[0, c])
        else:
            assert math.isnan(values[0, c])


def recovered(p: RegisterMap, poller: ModbusPoller) -> bool:
    values, quality = poller.held.snapshot()
    return all(quality[0, INDEX[r.channel]] == Quality.GOOD
               and abs(values[0, INDEX[r.channel]] - SOUND[r.channel]) <= max(r.encoding.resolution(), 1e-5)
               for r in p.devices[0].registers)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def run_script(p: RegisterMap, peer: ScriptedTcpPeer | ScriptedRtuSlave, script: list) -> ModbusPoller:
    records, logger = _Records(), logging.getLogger("acquisition.modbus")
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(records)
    poller = ModbusPoller(p, log_interval_s=3600)
    try:
        peer.load(script)
        served_before = peer.served
        poller.start()
        deadline = time.monotonic() + 15 + 0.5 * len(script)
        while not (peer.served >= served_before + len(script) and recovered(p, poller)):
            check_snapshot(p, poller)
            assert time.monotonic() < deadline, (f"the link did not recover: served {peer.served - served_before} of "
                                                 f"{len(script)}, skipped {poller.stats.skipped}, "
                                                 f"snapshot {poller.held.snapshot()}")
            time.sleep(0.01)  # polling the poller's state, not a fixed wait
    finally:
        poller.stop(2.0)
        logger.removeHandler(records)
        logger.setLevel(old_level)
        while not peer.script.empty():  # what a failed example left unplayed must not leak into the next
            peer.script.get_nowait()
    for cause in poller.stats.skipped:
        event(cause)  # shown by --hypothesis-show-statistics: which failure paths the script reached
    assert set(poller.stats.skipped) <= MODBUS_CAUSES, poller.stats.skipped
    # an unexpected exception in a link thread is logged with a traceback: a finding, not noise
    assert not [r for r in records.records if r.levelno >= logging.ERROR], [r.getMessage() for r in records.records]
    for r in records.records:  # what the peer sent is logged as hex or escaped, never raw
        assert unescaped(r.getMessage()) is None, r.getMessage()
    return poller


COMMON_ANSWERS = [
    st.just(("good", None)), st.just(("silent", None)), st.just(("twice", None)),
    st.tuples(st.just("words"), st.lists(WORD, max_size=N_WORDS + 2)),
    st.tuples(st.just("raw"), st.binary(max_size=300)),
    st.tuples(st.just("pdu"), st.binary(max_size=260)),
    st.tuples(st.just("pdu"), st.tuples(st.sampled_from([3, 4, 0x83, 0x84, 1, 0x2B, 0xFF]), st.binary(max_size=40))
              .map(lambda fb: bytes([fb[0]]) + fb[1])),
    st.tuples(st.just("exception"), st.integers(0, 255)),
    st.tuples(st.just("byte_count"), st.integers(0, 255)),
    st.tuples(st.just("truncated"), st.integers(0, 2 * N_WORDS + 8)),
    st.tuples(st.just("prefix"), st.binary(min_size=1, max_size=20)),
    st.just(("other_unit", None)),
]
TCP_ANSWER = st.one_of(*COMMON_ANSWERS, st.just(("other_tid", None)), st.just(("close", None)),
                       st.tuples(st.just("length"), st.tuples(st.sampled_from([0, 1, 2, 3, 0xFF, 0xFFFF, 260]),
                                                              st.binary(max_size=40))))
RTU_ANSWER = st.one_of(*COMMON_ANSWERS, st.just(("bad_crc", None)))
SLOW = settings(max_examples=max(4, settings().max_examples // 6),  # each example is a poller run against a peer
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def tcp_peer() -> Iterator[ScriptedTcpPeer]:
    peer = ScriptedTcpPeer(bank=[0] * N_WORDS)
    peer.bank = bank_for(plant({"transport": "tcp", "host": "127.0.0.1", "port": peer.port}))
    peer.start()
    yield peer
    peer.close()


@SLOW
@given(script=st.lists(TCP_ANSWER, min_size=1, max_size=8))
def test_hostile_tcp_answers_never_crash_the_poller_and_the_link_recovers(tcp_peer: ScriptedTcpPeer,
                                                                          script: list) -> None:
    p = plant({"transport": "tcp", "host": "127.0.0.1", "port": tcp_peer.port})
    run_script(p, tcp_peer, script)


@pytest.fixture(scope="module")
def rtu_line() -> Iterator[tuple[SocatPair, ScriptedRtuSlave]]:
    if not have_socat():
        pytest.skip("socat not installed")
    pair = SocatPair()
    slave = ScriptedRtuSlave(pair.a, bank=[0] * N_WORDS)
    slave.bank = bank_for(plant({"transport": "rtu", "serial_port": pair.b, "baudrate": 19200, "parity": "N"}))
    slave.start()
    yield pair, slave
    slave.close()
    pair.close()


@SLOW
@given(script=st.lists(RTU_ANSWER, min_size=1, max_size=8))
def test_hostile_rtu_frames_never_crash_the_poller_and_the_line_recovers(
        rtu_line: tuple[SocatPair, ScriptedRtuSlave], script: list) -> None:
    pair, slave = rtu_line
    p = plant({"transport": "rtu", "serial_port": pair.b, "baudrate": 19200, "parity": "N"})
    run_script(p, slave, script)


def test_the_scripted_peers_speak_correct_modbus() -> None:
    """The peers' own framing against pymodbus's CRC and a known frame (the hostile tests rely on 'good')."""
    from pymodbus.framer.rtu import FramerRTU
    assert crc16(bytes([1, 3, 0, 0, 0, 2])) == FramerRTU.compute_CRC(bytes([1, 3, 0, 0, 0, 2])).to_bytes(2, "big")


# -- the register-map loader ---------------------------------------------------------------------------------------
CONTROL_TEXT = st.text(alphabet=st.characters(max_codepoint=0x9F, categories=["Cc"]), min_size=1, max_size=4).map(
    lambda c: "holding" + c + "  - device 'x': forged")
HOSTILE_VALUE = st.one_of(
    st.integers(), st.integers(min_value=2**63, max_value=2**80), st.floats(), st.booleans(), st.text(max_size=30),
    CONTROL_TEXT, st.sampled_from(["", "x" * 5000, "float64", "4-20mA", "coil", "\u2028", "\ud800", "\x00"]),
    st.lists(st.one_of(st.integers(), st.floats()), max_size=3), st.dictionaries(st.text(max_size=8), st.integers(),
                                                                                  max_size=3),
    st.datetimes(), st.dates(), st.times(),
)
SHIPPED = tomllib.loads(TCP_MAP.read_text(encoding="utf-8"))


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


SHIPPED_PATHS = _paths(SHIPPED)


def _holds(node: object, part: object) -> bool:
    """Is ``part`` (by identity) still inside ``node``?"""
    if node is part:
        return True
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    return any(_holds(c, part) for c in children)


def check_error(text: str) -> None:
    lines = text.split("\n")
    assert lines[0].startswith("register map"), lines[0]
    for line in lines[1:]:
        assert line.startswith(("  - device ", "  - top level")), line
    for line in lines:
        assert unescaped(line) is None and len(line) < 600, line


MUTATION = st.tuples(st.sampled_from(SHIPPED_PATHS), HOSTILE_VALUE, st.sampled_from(["set", "set", "delete", "add"]))


@given(mutations=st.lists(MUTATION, min_size=1, max_size=4))
def test_a_bad_register_map_is_refused_with_a_clear_message(mutations: list[tuple[tuple, object, str]]) -> None:
    doc, added = copy.deepcopy(SHIPPED), []
    for path, value, how in mutations:
        parent = doc
        try:
            for p in path[:-1]:
                parent = parent[p]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced or removed this part
        key = path[-1]
        if how == "delete" and isinstance(parent, dict):
            parent.pop(key, None)
        elif how == "add" and isinstance(parent, dict):
            parent[f"{key}_typo"] = value
            added.append((parent, f"{key}_typo"))
        elif isinstance(parent, dict) or (isinstance(parent, list) and isinstance(key, int) and key < len(parent)):
            parent[key] = value
    try:
        m = parse_register_map(doc, origin="plant.toml")
    except RegisterMapError as exc:
        check_error(str(exc))
        for parent, key in added:  # an unknown key is named, unless a later mutation threw its table away
            if _holds(doc, parent) and key in parent and "no [[device]] tables" not in str(exc):
                assert repr(key) in str(exc), str(exc)
        return
    for d in m.devices:  # what loads is sane
        for r in d.registers:
            assert r.channel in CHANNELS and r.encoding.scale != 0 and math.isfinite(r.encoding.scale)
            assert r.encoding.valid is not None or r.encoding.ma_range is not None  # every channel has a range


@given(content=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                         st.sampled_from([b"\x80", b"[[device]]\nname = \"\xff\"\n", b"a = " + b"[" * 5000,
                                          b"device = " + b"{a = " * 3000, b"\x00" * 10])))
def test_a_register_map_file_of_any_bytes_is_a_clear_error(tmp_path_factory: pytest.TempPathFactory,
                                                           content: bytes) -> None:
    path = tmp_path_factory.mktemp("map") / "plant.toml"
    path.write_bytes(content)
    with pytest.raises(RegisterMapError) as err:
        load_register_map(path)
    assert str(err.value).startswith("register map") and unescaped(str(err.value).split("\n")[0]) is None


def test_a_directory_as_register_map_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RegisterMapError, match="cannot read"):
        load_register_map(tmp_path)
