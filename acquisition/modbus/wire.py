"""pymodbus clients that keep the bytes of the last transaction, and the diagnosis of a failed one from them.

pymodbus drops a bad frame silently and reports only "no response": a corrupted answer, a truncated one and a
dead device all look alike. Keeping the raw bytes lets the poller count and log the real cause (garbage, CRC
error, truncated frame, timeout), which is what a technician chasing a bad cable needs to know.
"""
from __future__ import annotations

import socket
from typing import Any

import serial
from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.framer.rtu import FramerRTU

# Diagnoses (they become the ``modbus_<cause>`` keys of SourceStats.skipped)
TIMEOUT = "timeout"
CRC_ERROR = "crc_error"
TRUNCATED = "truncated_frame"
GARBAGE = "garbage"
UNEXPECTED = "unexpected_response"  # a well-formed answer to another request (late reply, wrong device)


class _WireCapture:
    """Mixed into a pymodbus sync client: ``wire_tx`` is the last request sent, ``wire_rx`` what came back."""

    wire_tx: bytes = b""
    wire_rx: bytes | bytearray = b""
    stray_bytes = 0
    connect_error = ""

    def send(self, request: bytes, addr: tuple[Any, ...] | None = None) -> int:
        self.wire_tx = bytes(request)
        self.wire_rx = bytearray()
        sent: int = super().send(request, addr)  # type: ignore[misc]  # a mixin: the pymodbus client follows in the MRO
        return sent

    def recv(self, size: int | None) -> bytes:
        data: bytes = super().recv(size)  # type: ignore[misc]  # as in send
        self.wire_rx += data
        return data

    def close(self) -> None:
        """pymodbus's, with the annotation it lacks."""
        super().close()  # type: ignore[misc]  # as in send


class CapturingTcpClient(_WireCapture, ModbusTcpClient):
    def connect(self) -> bool:
        """As pymodbus's, but keeps why it failed (pymodbus only logs it)."""
        if self.socket:
            return True
        try:
            self.socket = socket.create_connection((self.comm_params.host, self.comm_params.port),
                                                   timeout=self.comm_params.timeout_connect)
        except OSError as exc:
            self.connect_error = exc.strerror or str(exc)
            self.close()
        return self.socket is not None


class CapturingSerialClient(_WireCapture, ModbusSerialClient):
    def connect(self) -> bool:
        """As pymodbus's, but keeps why it failed (a missing device, settings the port refuses)."""
        if self.socket:
            return True
        p = self.comm_params
        try:
            self.socket = serial.serial_for_url(p.host, timeout=p.timeout_connect, write_timeout=p.timeout_connect,
                                                bytesize=p.bytesize, stopbits=p.stopbits, baudrate=p.baudrate,
                                                parity=p.parity, exclusive=True)
            self.socket.inter_byte_timeout = self.inter_byte_timeout
        except Exception as exc:  # noqa: BLE001 - pyserial raises termios.error and others besides SerialException
            self.connect_error = str(exc)
            self.close()
        return self.socket is not None

    def send(self, request: bytes, addr: tuple[Any, ...] | None = None) -> int:
        # Bytes already waiting before a request are noise on the line (or the tail of a broken answer);
        # pymodbus would discard them with a warning, we count them.
        if self.socket is not None and (waiting := self.socket.in_waiting):
            self.stray_bytes += len(self.socket.read(waiting))
        return super().send(request, addr)


def _expected_rtu_length(request: bytes) -> int:
    fc, count = request[1], int.from_bytes(request[4:6], "big")
    return 5 + (2 * count if fc in (3, 4) else (count + 7) // 8)


def diagnose_rtu(request: bytes, rx: bytes) -> str:
    """Why an RTU read got no usable answer, from the request and the bytes that came back."""
    if not rx:
        return TIMEOUT
    if len(request) < 6:
        return GARBAGE
    dev, fc = request[0], request[1]
    if rx[0] != dev:
        return GARBAGE
    if len(rx) < 2:
        return TRUNCATED
    if rx[1] not in (fc, fc | 0x80):
        return GARBAGE
    n = 5 if rx[1] & 0x80 else _expected_rtu_length(request)
    if rx[1] & 0x80 == 0 and len(rx) >= 3 and rx[2] != n - 5:
        return GARBAGE  # the byte count does not fit the request
    if len(rx) < n:
        return TRUNCATED
    frame = bytes(rx[:n])
    if FramerRTU.compute_CRC(frame[:-2]) != int.from_bytes(frame[-2:], "big"):
        return CRC_ERROR
    return GARBAGE  # a sound frame followed by noise, which spoils it for the framer


def diagnose_tcp(request: bytes, rx: bytes) -> str:
    """Why a Modbus TCP read got no usable answer (MBAP header: tid, protocol 0, length, unit)."""
    if not rx:
        return TIMEOUT
    if len(rx) < 8:
        return TRUNCATED
    if rx[2:4] != b"\x00\x00":
        return GARBAGE
    if rx[0:2] != request[0:2] or rx[6] != request[6]:
        return UNEXPECTED
    if len(rx) < 6 + int.from_bytes(rx[4:6], "big"):
        return TRUNCATED
    return GARBAGE
