"""The committed state diagram is the one the table generates, and it shows every state."""

from __future__ import annotations

import re
from pathlib import Path

from conversations.engine import TRANSITIONS, Status, mermaid

DIAGRAM = Path(__file__).resolve().parents[2] / "docs" / "conversation.mmd"
_EDGE = re.compile(r"^\s+(\[\*\]|\w+) --> (\[\*\]|\w+)(?::\s*(.+))?$")


def _edges(text: str) -> list[tuple[str, str, str]]:
    found = []
    for line in text.splitlines()[1:]:
        m = _EDGE.match(line)
        assert m is not None, f"not a state-diagram edge: {line!r}"
        found.append((m.group(1), m.group(2), m.group(3) or ""))
    return found


def test_committed_diagram_is_current() -> None:
    assert DIAGRAM.read_text(encoding="utf-8") == mermaid(), (
        "docs/conversation.mmd is stale: regenerate it from conversations.engine.mermaid()"
    )


def test_every_state_appears() -> None:
    edges = _edges(DIAGRAM.read_text(encoding="utf-8"))
    states = {a for a, _, _ in edges} | {b for _, b, _ in edges}
    missing = [s.value for s in Status if s.value not in states]
    assert missing == []


def test_every_row_has_an_edge() -> None:
    labels = {label for _, _, label in _edges(mermaid())}
    for t in TRANSITIONS:
        assert t.event.__name__ + (f" [{t.guard}]" if t.guard else "") in labels
