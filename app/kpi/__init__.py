"""Alarm-system KPIs (ISA-18.2 / IEC 62682, EEMUA 191) for any range ``[start, end)`` of the store.

Use (blocking: about 0.5 s of CPU over 30 days of 50 pumps, 0.1 s for one shift, measured by
``python -m bench.bench_kpis``; call it on a worker thread, never the GUI thread)::

    from app.kpi import kpi_report
    report = kpi_report(db, shift.start_ts, min(shift.end_ts, time.time()))   # a KpiReport (app/kpi/model.py)

Pass ``min(end, now)`` for a range still running: the rate divides by the range's length and "stale" is judged at
its end. ``end <= start`` (or a non-finite or > 400-day range) raises :class:`KpiRangeError` with what is allowed.

What each number means (the definitions, decided once here; the constants are in app/kpi/model.py):

- **Activation** (the unit of alarm load): an alarm raised, or re-activated after it cleared (``alarm_events``
  ``raised``/``reactivated``). One raised while shelved, suppressed or out of service was not annunciated and is
  not load (ISA-18.2); it is counted in ``rate.held_activations``.
- **Rate** (``report.rate``): activations per 10 minutes over the range (``mean_per_10min``, bands 1 and 2:
  ``ACCEPTABLE_PER_10MIN``, ``MANAGEABLE_PER_10MIN``); ``series`` has the count of every FIXED 10-minute period
  from ``start`` for the rate plot; ``share_above_1``/``share_above_2``: the share of those periods with more
  than 1 (2); ``peak_10min``: the most in one fixed period; ``peak_sliding_10min``: in any 10 minutes.
- **Flood** (``report.flood``): on a SLIDING 10-minute window (the standards' flood state): a flood starts the
  moment more than 10 activations fall in the last 10 minutes and ends the moment fewer than 5 do. ``time_share``
  is the part of the range in flood (target < 1 %); each flood with its real start/end and peak is in ``floods``
  (the state at ``start`` is rebuilt from the hour before). ``periods_over_10_share`` is the fixed-period measure
  (10-minute periods with more than 10).
- **Bad actors** (``report.bad_actors``): the 10 sources with the most activations and their share of the load.
  A source, "the same alarm" (:class:`AlarmSource`), is asset + kind + diagnostic key: one pump's anomaly alarm,
  or one pump's "comm" diagnostic, however many alarm rows it was stored as.
- **Chattering** (``report.chattering``): sources with 3 or more activations within 60 s anywhere in the range.
- **Stale** (``report.stale``): alarms whose condition has been active for more than 24 h (since their latest
  activation, with no clear since) at the range end, whatever their state; longest first.
- **Priority split** (``report.priorities``): low, medium, high: share of activations, against 80/15/5 %.
- **Holds** (``report.held``): shelve, suppress, out-of-service events in the range; alarms shelved, suppressed,
  out of service and unacknowledged (UNACK/RTNUN) at its end.
- **Time to acknowledge** (``report.ack``): for each acknowledgement in the range, seconds since its alarm's
  latest activation; mean and p90 (linear interpolation).
- **Model precision** (``report.precision``): anomaly alarms RAISED in the range, judged by their latest label:
  failure / (failure + false alarm); unsure is left out and counted. Per asset and per the cloud's diagnosis.
- **Cloud agreement** (``report.cloud``): of those labels (not unsure), how often the cloud's verdict matched
  (confirmed = failure, not confirmed = false alarm), and how often a confirmed failure's mode matched the label's.

All statements of one report read one SQLite snapshot (the writer is not blocked). Each group has its own
function (``load_kpis``, ``stale_alarms``, ``held_kpi``, ``ack_kpi``, ``label_kpis``, on a connection from
``app.store.kpi_queries.read_snapshot(db)``) for a screen that shows one group; ``kpi_report(db, a, b,
timings={})`` fills in the seconds each group took.
"""
from app.kpi.model import (
    ACCEPTABLE_PER_10MIN,
    FLOOD_TARGET_SHARE,
    MANAGEABLE_PER_10MIN,
    PRIORITY_TARGET,
    AckKpi,
    AlarmRate,
    AlarmSource,
    BadActor,
    BadActors,
    ChatteringKpi,
    ChatteringSource,
    CloudAgreementKpi,
    FloodKpi,
    FloodPeriod,
    HeldKpi,
    KpiReport,
    ModelPrecisionKpi,
    PrecisionGroup,
    PriorityShare,
    RateSeries,
    StaleAlarm,
)
from app.kpi.report import KpiRangeError, ack_kpi, held_kpi, kpi_report, label_kpis, load_kpis, stale_alarms

__all__ = ["ACCEPTABLE_PER_10MIN", "FLOOD_TARGET_SHARE", "MANAGEABLE_PER_10MIN", "PRIORITY_TARGET", "AckKpi",
           "AlarmRate", "AlarmSource", "BadActor", "BadActors", "ChatteringKpi", "ChatteringSource",
           "CloudAgreementKpi", "FloodKpi", "FloodPeriod", "HeldKpi", "KpiRangeError", "KpiReport",
           "ModelPrecisionKpi", "PrecisionGroup", "PriorityShare", "RateSeries", "StaleAlarm", "ack_kpi",
           "held_kpi", "kpi_report", "label_kpis", "load_kpis", "stale_alarms"]
