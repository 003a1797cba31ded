"""Confirm, then run an admin's change off the GUI thread: the one path the Users and Settings screens share.

The confirmation panel names the change; the command runs on the screen's worker with the session of the moment
it was confirmed (refused, in words, if that session may no longer do it); the screen is told the outcome.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.hmi_api import Session
from app.ui.session import SessionState
from app.ui.widgets.overlay import ConfirmPanel, OverlayHost
from app.ui.workers import TaskRunner
from app.users import Action


@dataclass(frozen=True, slots=True)
class ConfirmedCommands:
    overlay: OverlayHost
    runner: TaskRunner
    session: SessionState
    action: Action  # what the session must be allowed to do
    say: Callable[[str], None]  # the screen's message line
    done: Callable[[str], None]  # the change is stored: its description
    failed: Callable[[BaseException], None]  # refused or failed: the screen words the error

    def confirm(self, title: str, text: str, confirm_text: str, command: Callable[[Session], None],
                done_text: str) -> None:
        self.overlay.push(ConfirmPanel(self.overlay, title, text, confirm_text,
                                       lambda _choice, _note: self.run(command, done_text)))

    def run(self, command: Callable[[Session], None], done_text: str) -> None:
        session = self.session.session
        if session is None or not self.session.can(self.action):
            self.say(self.session.refusal(self.action))
            return
        self.say("Saving...")
        self.runner.submit(lambda: command(session), on_done=lambda _: self.done(done_text), on_error=self.failed)
