"""The daily health check's summary carries finding texts that may quote outside input (a device's or a broker's
words) into the uplink heartbeat and the log: whatever the texts, each is one short escaped ASCII line and the
heartbeat's part stays small."""
from __future__ import annotations

import json

from hypothesis import given, strategies as st

from app.daily_checks import MAX_TEXT_CHARS, MAX_TEXTS, ChecksSummary
from app.doctor import Finding, Status

findings = st.lists(st.builds(Finding, st.sampled_from(["database", "sources", "broker", "x" * 40]),
                              st.sampled_from(list(Status)), st.text(max_size=1000)), max_size=40)


@given(findings)
def test_heartbeat_checks_are_small_escaped_lines(found: list[Finding]) -> None:
    body = ChecksSummary.of(found, 1.8e9, 1.0).heartbeat_body()
    problems = body["problems"]
    assert len(problems) == min(MAX_TEXTS, sum(f.status is Status.PROBLEM for f in found))
    for text in problems:
        assert len(text) <= MAX_TEXT_CHARS and text.isascii() and text.isprintable()
    assert len(json.dumps(body)) < 2000
    assert body["status"] == max((f.status for f in found), default=Status.OK,
                                 key=[Status.OK, Status.WARNING, Status.PROBLEM].index).value
