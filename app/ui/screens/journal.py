"""The alarm journal: every stored alarm, also cleared and acknowledged ones, with who did what and when.

Anyone at the panel may read it (like Ignition's alarm journal); it changes nothing. Filters are big buttons that
open pickers (time range, asset, priority, state, kind, failure mode) and a search typed on the on-screen keyboard;
each change asks the store for one page on a worker (``api.journal`` blocks), never on the GUI thread, and an
answer to an older request is dropped. Tapping a row opens the alarm's detail with its event trail.

The pickers and the search keyboard are built once, ahead, while the first page is read, and only re-checked
when opened (app/ui/widgets/kept_panels.py): built at every tap, the 50-pump asset picker stalled the GUI thread.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from PySide6.QtCore import QModelIndex, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.hmi_api import (
    Alarm,
    AlarmKind,
    AlarmState,
    EngineSnapshot,
    HmiApi,
    JournalPage,
    JournalQuery,
    JournalSort,
    Priority,
)
from app.ui import theme
from app.ui.alarm_look import state_look
from app.ui.widgets.buttons import touch_button
from app.ui.widgets.choice_panel import ChoicePanel
from app.ui.widgets.journal_table import JournalTable
from app.ui.widgets.kept_panels import KeptPanels
from app.ui.widgets.keyboard import OnScreenKeyboard
from app.ui.widgets.overlay import OverlayHost
from app.ui.workers import TaskRunner
from detection.failure_modes import FailureMode

log = logging.getLogger(__name__)

DAY = 86_400.0
TIME_RANGES: tuple[tuple[str, float | None], ...] = (("Last 24 h", DAY), ("Last 7 days", 7 * DAY),
                                                      ("Last 30 days", 30 * DAY), ("All", None))
DEFAULT_RANGE = "Last 7 days"
PAGE_SIZE = 50
PICKERS = ("Time", "Asset", "Priority", "State", "Kind", "Failure", "Sort")  # filter buttons with a picker
REFRESH_MS = 2000  # new alarms while the journal is open: at most one re-read per 2 s
_KIND_WORDS = {AlarmKind.ANOMALY: "Anomaly", AlarmKind.DIAGNOSTIC: "Diagnostic"}


@dataclass(frozen=True)
class PickerSpec:
    """What a filter's picker offers (label, value), what is chosen now, and what a choice does."""
    title: str
    options: tuple[tuple[str, Any], ...]
    chosen: frozenset[Any]
    on_done: Callable[[frozenset[Any]], None]
    single: bool = False
    columns: int = 4


def _summary(chosen: Sequence[str], any_text: str = "any") -> str:
    if not chosen:
        return any_text
    return chosen[0] if len(chosen) == 1 else f"{len(chosen)} chosen"


class JournalScreen(QWidget):
    sig_open_alarm = Signal(object)
    """A row was tapped: open this stored :class:`Alarm`'s detail (with its event trail)."""

    def __init__(self, api: HmiApi, runner: TaskRunner, overlay: OverlayHost, notify: Callable[[str], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.api, self._runner, self._overlay, self._notify = api, runner, overlay, notify
        self.query = JournalQuery(page_size=PAGE_SIZE)
        self.range_text = DEFAULT_RANGE
        self.assets: list[str] = []
        self.now: float | None = None  # the latest plant time: time ranges count back from it
        self.page: JournalPage | None = None
        self._request = 0
        self.loading = False
        self._stale = False
        self.kept = self._keep_panels()
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(REFRESH_MS)
        self._refresh.timeout.connect(self._refresh_if_visible)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(6)
        filters = QHBoxLayout()
        self.filter_buttons: dict[str, QPushButton] = {}
        for key in (*PICKERS[:-1], "Search"):
            b = touch_button(key, size="small")  # two lines (what, and what is chosen) in a 56 px glove target
            b.setMinimumWidth(100)
            b.clicked.connect(self._search if key == "Search" else lambda _=False, key=key: self.open_picker(key))
            filters.addWidget(b, 1)
            self.filter_buttons[key] = b
        lay.addLayout(filters)
        self.table = JournalTable()
        self.table.clicked.connect(self._tapped)
        lay.addWidget(self.table, 1)
        bar = QHBoxLayout()
        self.reset_button = touch_button("Clear filters")
        self.reset_button.clicked.connect(self.reset)
        self.sort_button = touch_button("Sort")
        self.sort_button.clicked.connect(lambda: self.open_picker("Sort"))
        self.filter_buttons["Sort"] = self.sort_button
        self.prev_button = touch_button("\u25c0 Previous")
        self.prev_button.clicked.connect(lambda: self.go_to_page(self.query.page - 1))
        self.next_button = touch_button("Next \u25b6")
        self.next_button.clicked.connect(lambda: self.go_to_page(self.query.page + 1))
        self.status = QLabel("")
        self.status.setProperty("kind", "large")
        bar.addWidget(self.reset_button)
        bar.addWidget(self.sort_button)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.prev_button)
        bar.addWidget(self.next_button)
        lay.addLayout(bar)
        self._render_filters()
        self._render_status()

    # -- from the window ----------------------------------------------------------------------------
    def on_snapshot(self, snap: EngineSnapshot) -> None:
        if snap.ts is not None:
            first = self.now is None
            self.now = snap.ts
            if first and self.isVisible():
                self.load()
        self._known_assets(snap.assets)

    def _known_assets(self, names: Iterable[str]) -> None:
        """The asset filter offers the live assets and every asset with a stored alarm."""
        merged = sorted(set(self.assets) | set(names))
        if merged != self.assets:
            self.assets = merged

    def on_alarms(self, _alarms: list[Alarm]) -> None:
        """The alarms changed: re-read the page (coalesced) if the journal is on screen."""
        if self.isVisible() and not self._refresh.isActive():
            self._refresh.start()

    def _refresh_if_visible(self) -> None:
        if self.isVisible():
            self.load()

    # -- querying -----------------------------------------------------------------------------------
    def set_query(self, **changes: Any) -> None:
        """Change filters (``JournalQuery`` fields); back to the first page unless the page itself changes."""
        if "page" not in changes:
            changes["page"] = 0
        try:
            self.query = replace(self.query, **changes)
        except ValueError as exc:  # e.g. a search longer than any note: say so, keep the filters as they were
            self._notify(str(exc))
            return
        self._render_filters()
        self.load()

    def load(self) -> None:
        """Ask the store for the current page, on the worker; the answer is shown when it comes back. The time
        range counts back from the latest plant time, so a re-read takes in what happened since."""
        self.query = replace(self.query, since=self._since())
        self._request += 1
        request, api, query = self._request, self.api, self.query
        self.loading = True
        self._render_status()
        self._runner.submit(lambda: api.journal(query), on_done=lambda page: self._loaded(request, page),
                            on_error=lambda exc: self._failed(request, exc))

    def go_to_page(self, page: int) -> None:
        if self.page is not None and 0 <= page < self.page.pages:
            self.set_query(page=page)

    def reset(self) -> None:
        self.range_text = DEFAULT_RANGE
        self.query = JournalQuery(page_size=PAGE_SIZE)
        self._render_filters()
        self.load()

    def _range_span(self) -> float | None:
        return dict(TIME_RANGES)[self.range_text]

    def _since(self) -> float | None:
        span = self._range_span()
        return None if span is None or self.now is None else self.now - span

    def _loaded(self, request: int, page: JournalPage) -> None:
        if request != self._request:
            return  # an older request: a newer one is on its way
        self.loading = False
        self.page = page
        self._known_assets(page.assets)
        self.table.journal_model.set_rows(page.rows)
        self.table.scrollToTop()
        self._render_status()
        self.kept.prepare()  # the pickers, built ahead while the operator reads the page

    def _failed(self, request: int, exc: BaseException) -> None:
        log.warning("journal read failed (request %d, newest %d): %s", request, self._request, exc)
        if request == self._request:
            self.loading = False
            self.status.setText(f"Journal unavailable: {exc}")

    def _tapped(self, index: QModelIndex) -> None:
        rows = self.table.journal_model.rows
        if 0 <= index.row() < len(rows):
            self.sig_open_alarm.emit(rows[index.row()].alarm)

    # -- pickers ------------------------------------------------------------------------------------
    def _keep_panels(self) -> KeptPanels:
        """Every picker and the search keyboard are built once (ahead, see app/ui/widgets/kept_panels.py)."""
        kept = KeptPanels(self._overlay, self)
        for key in PICKERS:
            kept.add(key, partial(self._build_picker, key), partial(self._picker_current, key))
        kept.add("Search", lambda: OnScreenKeyboard("Search alarms, notes and users", "", self._searched,
                                                    self._overlay.pop))
        return kept

    def _picker_spec(self, key: str) -> PickerSpec:
        q = self.query
        if key == "Time":
            return PickerSpec("Alarms raised in", tuple((t, t) for t, _ in TIME_RANGES), frozenset({self.range_text}),
                              self._chose_range, single=True)
        if key == "Asset":
            return PickerSpec("Assets", tuple((a, a) for a in self.assets), q.assets,
                              lambda chosen: self.set_query(assets=chosen), columns=8 if len(self.assets) > 16 else 4)
        if key == "Priority":
            return PickerSpec("Priority", tuple((p.value.upper(), p) for p in sorted(Priority, key=lambda p: -p.rank)),
                              q.priorities, lambda chosen: self.set_query(priorities=chosen), columns=3)
        if key == "State":
            states = tuple((state_look(s, Priority.LOW).code, s) for s in AlarmState)
            return PickerSpec("State (as last stored)", states, q.states, lambda chosen: self.set_query(states=chosen))
        if key == "Kind":
            return PickerSpec("Kind", tuple((w, k) for k, w in _KIND_WORDS.items()), q.kinds,
                              lambda chosen: self.set_query(kinds=chosen), columns=2)
        if key == "Failure":
            return PickerSpec("Failure mode (latest label or cloud verdict)", tuple((m.text, m) for m in FailureMode),
                              q.failure_modes, lambda chosen: self.set_query(failure_modes=chosen), columns=3)
        if key == "Sort":
            return PickerSpec("Sort", tuple((s.value.capitalize(), s) for s in JournalSort), frozenset({q.sort}),
                              lambda c: self.set_query(sort=next(iter(c), JournalSort.NEWEST)), single=True, columns=2)
        raise KeyError(f"no journal picker {key!r}; there are {', '.join(PICKERS)}")

    def _build_picker(self, key: str) -> ChoicePanel[Any]:
        spec = self._picker_spec(key)
        return ChoicePanel(self._overlay, spec.title, spec.options, spec.chosen, spec.on_done, spec.single,
                           spec.columns)

    def _picker_current(self, key: str, panel: QWidget) -> bool:
        spec = self._picker_spec(key)
        return isinstance(panel, ChoicePanel) and panel.offers(spec.options, spec.columns)

    def open_picker(self, key: str) -> None:
        """The filter button ``key`` was tapped: its picker, with what is chosen now."""
        spec = self._picker_spec(key)
        panel = self.kept.panel(key)
        assert isinstance(panel, ChoicePanel)
        panel.reopen(spec.chosen, spec.on_done)
        self.kept.show(panel)

    def _chose_range(self, chosen: frozenset[str]) -> None:
        self.range_text = next(iter(chosen), DEFAULT_RANGE)
        self.set_query()

    def _search(self) -> None:
        keyboard = self.kept.panel("Search")
        assert isinstance(keyboard, OnScreenKeyboard)
        keyboard.start(self.query.text)
        self.kept.show(keyboard)

    def _searched(self, text: str) -> None:
        self._overlay.pop()
        self.set_query(text=text)

    def keyboard(self) -> OnScreenKeyboard | None:
        top = self._overlay.top()
        return top if isinstance(top, OnScreenKeyboard) else None

    def picker(self) -> ChoicePanel[Any] | None:
        top = self._overlay.top()
        return top if isinstance(top, ChoicePanel) else None

    # -- rendering ----------------------------------------------------------------------------------
    def _render_filters(self) -> None:
        q = self.query
        texts = {
            "Time": self.range_text.replace("Last ", ""),
            "Asset": _summary(sorted(q.assets)),
            "Priority": _summary([p.value.upper() for p in sorted(q.priorities, key=lambda p: -p.rank)]),
            "State": _summary([state_look(s, Priority.LOW).code for s in sorted(q.states)]),
            "Kind": _summary([_KIND_WORDS[k] for k in sorted(q.kinds)]),
            "Failure": _summary([m.text for m in sorted(q.failure_modes)]),
            "Search": f'"{q.text}"' if q.text else "-",
        }
        self.sort_button.setText(f"Sort: {q.sort.value}")
        for key, value in texts.items():
            b = self.filter_buttons[key]
            b.setText(f"{key}\n{_elide(value, 12)}")
            b.setToolTip(f"{key}: {value}")
            theme.set_prop(b, "kind", "confirm" if value not in ("any", "-") and key in _FILTER_KEYS else "")

    def _render_status(self) -> None:
        page = self.page
        if page is None:
            self.status.setText("Loading..." if self.loading else "")
        else:
            shown = (f"{page.first}-{page.first + len(page.rows) - 1} of {page.total:,} alarms" if page.rows
                     else "No stored alarm matches")
            self.status.setText(f"{shown}, page {page.query.page + 1} of {page.pages}"
                                + ("  (loading...)" if self.loading else ""))
        self.prev_button.setEnabled(page is not None and page.query.page > 0)
        self.next_button.setEnabled(page is not None and page.query.page + 1 < page.pages)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.table.set_narrow(self.width() < 1500, self.width() < 1200)


_FILTER_KEYS = frozenset({"Asset", "Priority", "State", "Kind", "Failure", "Search"})


def _elide(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "\u2026"
