"""Our declared Sparkplug B payload schema against the official one (Eclipse Tahu sparkplug_b.proto, as compiled
and shipped by pysparkplug), and decoding what pysparkplug encodes."""
from __future__ import annotations

import math

import pysparkplug as spb
import pytest
from google.protobuf.descriptor_pb2 import FieldDescriptorProto
from pysparkplug import _protobuf as official

from acquisition.mqtt_ingest.sparkplug_ingest import metric_number
from acquisition.mqtt_ingest.sparkplug_schema import DECLARED_FIELDS, DataType, Payload, decode_payload, rebirth_request

OFFICIAL = {"Payload": official.Payload.DESCRIPTOR, "Payload.Metric": official.Payload.Metric.DESCRIPTOR}


@pytest.mark.parametrize("message", sorted(DECLARED_FIELDS))
def test_every_declared_field_has_the_official_number_type_and_label(message: str) -> None:
    theirs = OFFICIAL[message].fields_by_name
    ours = (Payload.DESCRIPTOR if message == "Payload" else Payload.DESCRIPTOR.nested_types_by_name["Metric"])
    for name, number, ftype, label, oneof in DECLARED_FIELDS[message]:
        field = theirs[name]
        assert (field.number, field.type) == (number, ftype), name
        # protobuf 7 has no FieldDescriptor.label: a label is whether the field repeats and whether it is required
        assert (field.is_repeated, field.is_required) == (label == FieldDescriptorProto.LABEL_REPEATED,
                                                          label == FieldDescriptorProto.LABEL_REQUIRED), name
        assert ours.fields_by_name[name].number == number
        in_value_oneof = field.containing_oneof is not None and field.containing_oneof.name == "value"
        assert in_value_oneof == (oneof is not None), name


def test_datatype_numbers_are_the_official_ones() -> None:
    for dt in DataType:
        assert spb.DataType[dt.name].value == dt.value


@pytest.mark.parametrize(("datatype", "value"), [
    (spb.DataType.INT8, -128), (spb.DataType.INT16, -30), (spb.DataType.INT32, -2_000_000_000),
    (spb.DataType.INT64, -(2**62)), (spb.DataType.UINT8, 255), (spb.DataType.UINT16, 65535),
    (spb.DataType.UINT32, 4_000_000_000), (spb.DataType.UINT64, 2**63), (spb.DataType.FLOAT, 1.5),
    (spb.DataType.DOUBLE, -2.25e-3), (spb.DataType.BOOLEAN, True),
])
def test_numbers_encoded_by_pysparkplug_decode_to_the_same_value(datatype: spb.DataType, value: float) -> None:
    m = spb.Metric(timestamp=1, name="x", datatype=datatype, value=value, alias=1)
    raw = spb.DBirth(timestamp=2, seq=1, metrics=(m,)).encode()
    (decoded,) = decode_payload(raw).metrics
    got = metric_number(decoded, decoded.datatype)
    assert got is not None and math.isclose(got, float(value), rel_tol=1e-7)


def test_a_32_bit_twos_complement_of_a_small_int_also_decodes() -> None:
    """Some encoders put an Int16 -30 into the uint32 field as 32-bit two's complement, not 16-bit."""
    p = Payload()
    p.metrics.add(name="x", datatype=int(DataType.INT16), int_value=(1 << 32) - 30)
    (m,) = decode_payload(p.SerializeToString()).metrics
    assert metric_number(m, m.datatype) == -30.0


def test_the_rebirth_request_is_what_pysparkplug_reads_as_one() -> None:
    cmd = spb.NCmd.decode(rebirth_request(1_795_000_000_000))
    (m,) = cmd.metrics
    assert (cmd.timestamp, m.name, m.datatype, m.value) == (1_795_000_000_000, "Node Control/Rebirth",
                                                            spb.DataType.BOOLEAN, True)
