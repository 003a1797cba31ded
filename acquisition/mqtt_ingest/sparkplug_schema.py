"""The Sparkplug B payload (protobuf) as far as Vigil reads it, decoded by Google's protobuf runtime.

Why declared here rather than imported: the Sparkplug libraries on PyPI do not install beside paho-mqtt 2.x and
protobuf 7 (pysparkplug >= 0.4 needs paho-mqtt < 2, mqtt-spb-wrapper pins paho 1.6 and protobuf 3.20, tahutils
needs protobuf < 5), and generated ``*_pb2`` code would register ``sparkplug_b.proto`` in protobuf's global pool,
where it clashes with any other Sparkplug library loaded in the same process. So the message types are built
from a descriptor in a private pool. The field numbers and types are those of the Eclipse Tahu
``sparkplug_b.proto`` (package ``org.eclipse.tahu.protobuf``); fields Vigil does not use (metadata, properties,
DataSet, Template, extensions) are left out and skipped as unknown fields when present.
``tests/acquisition/mqtt/test_sparkplug_schema.py`` checks every declared field against the compiled official
schema shipped in pysparkplug, and the ingest tests decode messages that pysparkplug encoded.
"""
from __future__ import annotations

from enum import IntEnum

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message

PACKAGE = "org.eclipse.tahu.protobuf"
REBIRTH_METRIC = "Node Control/Rebirth"


class DataType(IntEnum):
    """Sparkplug B metric datatypes (the numeric ones Vigil can turn into a channel value, and a few others)."""

    UNKNOWN = 0
    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12
    DATETIME = 13
    TEXT = 14


_F = descriptor_pb2.FieldDescriptorProto
# (name, number, type, label, oneof); the value fields form the oneof 'value' as in the official schema
_METRIC_FIELDS = (
    ("name", 1, _F.TYPE_STRING, _F.LABEL_OPTIONAL, None),
    ("alias", 2, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, None),
    ("timestamp", 3, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, None),
    ("datatype", 4, _F.TYPE_UINT32, _F.LABEL_OPTIONAL, None),
    ("is_historical", 5, _F.TYPE_BOOL, _F.LABEL_OPTIONAL, None),
    ("is_transient", 6, _F.TYPE_BOOL, _F.LABEL_OPTIONAL, None),
    ("is_null", 7, _F.TYPE_BOOL, _F.LABEL_OPTIONAL, None),
    ("int_value", 10, _F.TYPE_UINT32, _F.LABEL_OPTIONAL, 0),
    ("long_value", 11, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, 0),
    ("float_value", 12, _F.TYPE_FLOAT, _F.LABEL_OPTIONAL, 0),
    ("double_value", 13, _F.TYPE_DOUBLE, _F.LABEL_OPTIONAL, 0),
    ("boolean_value", 14, _F.TYPE_BOOL, _F.LABEL_OPTIONAL, 0),
    ("string_value", 15, _F.TYPE_STRING, _F.LABEL_OPTIONAL, 0),
    ("bytes_value", 16, _F.TYPE_BYTES, _F.LABEL_OPTIONAL, 0),
)
_PAYLOAD_FIELDS = (
    ("timestamp", 1, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, None),
    ("metrics", 2, _F.TYPE_MESSAGE, _F.LABEL_REPEATED, None),
    ("seq", 3, _F.TYPE_UINT64, _F.LABEL_OPTIONAL, None),
    ("uuid", 4, _F.TYPE_STRING, _F.LABEL_OPTIONAL, None),
    ("body", 5, _F.TYPE_BYTES, _F.LABEL_OPTIONAL, None),
)
DECLARED_FIELDS = {"Payload": _PAYLOAD_FIELDS, "Payload.Metric": _METRIC_FIELDS}


def _file() -> descriptor_pb2.FileDescriptorProto:
    f = descriptor_pb2.FileDescriptorProto(name="vigil/sparkplug_b_subset.proto", package=PACKAGE, syntax="proto2")
    payload = f.message_type.add(name="Payload")
    metric = payload.nested_type.add(name="Metric")
    metric.oneof_decl.add(name="value")
    for msg, fields in ((payload, _PAYLOAD_FIELDS), (metric, _METRIC_FIELDS)):
        for name, number, ftype, label, oneof in fields:
            fd = msg.field.add(name=name, number=number, type=ftype, label=label)
            if ftype == _F.TYPE_MESSAGE:
                fd.type_name = f".{PACKAGE}.Payload.Metric"
            if oneof is not None:
                fd.oneof_index = oneof
    return f


_pool = descriptor_pool.DescriptorPool()  # private: never clashes with another library's sparkplug_b.proto
_pool.AddSerializedFile(_file().SerializeToString())
Payload: type[Message] = message_factory.GetMessageClass(_pool.FindMessageTypeByName(f"{PACKAGE}.Payload"))


def decode_payload(raw: bytes | bytearray) -> Message:
    """Raises :class:`google.protobuf.message.DecodeError` on bytes that are not a Sparkplug B payload."""
    return Payload.FromString(raw)


def rebirth_request(timestamp_ms: int) -> bytes:
    """The NCMD payload asking an edge node to publish its NBIRTH and DBIRTHs again."""
    p = Payload(timestamp=timestamp_ms)
    p.metrics.add(name=REBIRTH_METRIC, timestamp=timestamp_ms, datatype=int(DataType.BOOLEAN), boolean_value=True)
    raw: bytes = p.SerializeToString()
    return raw


__all__ = ["DataType", "DecodeError", "Payload", "REBIRTH_METRIC", "decode_payload", "rebirth_request"]
