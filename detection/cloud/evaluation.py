"""Scoring the cloud's verdicts against simulator truth: the issue's two goals, per fault kind and per context.

Goal 1: of the fault episodes the edge alarmed on, >= 90 % confirmed with the right failure mode.
Goal 2: of the deliberately injected false alarms, >= 80 % rejected (not confirmed).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from detection.cloud.dataset import FAULT_KINDS, NORMAL

CONFIRM_GOAL = 0.90
REJECT_GOAL = 0.80


@dataclass(frozen=True)
class Scorecard:
    per_kind: dict[str, dict[str, int]]  # kind -> n, confirmed, right_mode, edge_missed
    per_context: dict[str, dict[str, int]]  # false-alarm context -> n, rejected
    confusion: dict[str, dict[str, int]]  # true kind -> predicted mode (or "rejected") -> count

    @property
    def confirm_rate(self) -> float:
        n = sum(r["n"] for r in self.per_kind.values())
        return sum(r["right_mode"] for r in self.per_kind.values()) / max(n, 1)

    @property
    def reject_rate(self) -> float:
        n = sum(r["n"] for r in self.per_context.values())
        return sum(r["rejected"] for r in self.per_context.values()) / max(n, 1)

    @property
    def meets_goals(self) -> bool:
        return self.confirm_rate >= CONFIRM_GOAL and self.reject_rate >= REJECT_GOAL

    def as_dict(self) -> dict[str, object]:
        return {"confirmed_right_mode": round(self.confirm_rate, 4),
                "false_alarms_rejected": round(self.reject_rate, 4),
                "per_kind": self.per_kind, "per_context": self.per_context, "confusion": self.confusion}


def score(kinds: list[str], contexts: list[str], confirmed: list[bool], modes: list[str | None],
          edge_missed: dict[str, int] | None = None) -> Scorecard:
    per_kind = {k: {"n": 0, "confirmed": 0, "right_mode": 0, "edge_missed": (edge_missed or {}).get(k, 0)}
                for k in FAULT_KINDS}
    per_context: dict[str, dict[str, int]] = {}
    confusion: dict[str, Counter[str]] = {}
    for kind, context, ok, mode in zip(kinds, contexts, confirmed, modes, strict=True):
        confusion.setdefault(kind, Counter())[mode if ok and mode else "rejected"] += 1
        if kind == NORMAL:
            row = per_context.setdefault(context, {"n": 0, "rejected": 0})
            row["n"] += 1
            row["rejected"] += int(not ok)
        else:
            row = per_kind[kind]
            row["n"] += 1
            row["confirmed"] += int(ok)
            row["right_mode"] += int(ok and mode == kind)
    return Scorecard(per_kind, per_context, {k: dict(v) for k, v in confusion.items()})


def report(card: Scorecard, title: str) -> str:
    lines = [title, f"  {'fault kind':<22}{'episodes':>9}{'confirmed':>11}{'right mode':>12}{'edge missed':>13}"]
    for kind, r in card.per_kind.items():
        lines.append(f"  {kind:<22}{r['n']:>9}{r['confirmed']:>11}{r['right_mode']:>12}{r['edge_missed']:>13}")
    lines.append(f"  confirmed with the right failure mode: {card.confirm_rate:.1%} (goal >= {CONFIRM_GOAL:.0%})")
    lines.append(f"  {'false alarm context':<22}{'windows':>9}{'rejected':>11}")
    for context, r in sorted(card.per_context.items()):
        lines.append(f"  {context:<22}{r['n']:>9}{r['rejected']:>11}")
    lines.append(f"  false alarms rejected: {card.reject_rate:.1%} (goal >= {REJECT_GOAL:.0%})")
    lines.append("  confusion (true kind -> verdicts):")
    for kind, row in card.confusion.items():
        lines.append(f"    {kind:<22}" + ", ".join(f"{m} {n}" for m, n in sorted(row.items(), key=lambda x: -x[1])))
    return "\n".join(lines)
