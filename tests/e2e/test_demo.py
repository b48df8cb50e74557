"""`rebook demo` at a small size: it runs, and its numbers obey the invariants."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_demo_small_json(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", "demo", "--passengers", "200", "--seed", "3", "--json", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads(run.stdout)
    for key in (
        "passengers_impacted",
        "messages_sent",
        "options_offered",
        "accepted",
        "booked",
        "escalated",
        "opted_out",
        "no_answer",
        "oversold_seats",
        "time_to_first_option_ms",
        "elapsed_s",
    ):
        assert key in summary
    assert summary["oversold_seats"] == 0
    assert summary["passengers_impacted"] >= 200
    assert sum(summary["passengers_by_state"].values()) == summary["passengers_impacted"]
    assert summary["booked"] <= summary["accepted"] <= summary["passengers_impacted"]
    assert summary["booked"] > 0 and summary["escalated"] > 0 and summary["opted_out"] > 0
    assert summary["messages_sent"] >= summary["bookings_impacted"] - summary["bookings_unreachable"]
    assert 0 < summary["time_to_first_option_ms"]["p50"] <= summary["time_to_first_option_ms"]["p95"]
    # Counted by channel; Telegram users opted in through the page's deep link and tapped a button there.
    assert sum(summary["messages_by_channel"].values()) == summary["messages_sent"]
    assert summary["telegram_opt_ins"] > 0
    assert summary["messages_by_channel"]["telegram"] >= summary["telegram_opt_ins"]
    assert 0 < summary["replies_by_channel"]["telegram"] <= summary["telegram_opt_ins"] * 2
    # App users: their devices were registered, offers went by push, and tapped push actions booked.
    assert summary["app_users"] > 0
    assert summary["messages_by_channel"]["push"] > 0 and summary["replies_by_channel"]["push"] > 0
    assert summary["booked_by_channel"]["push"] > 0, "a push action books"
    assert sum(summary["booked_by_channel"].values()) <= summary["bookings_impacted"]
    # Both first-contact policies ran on the same data (#21.5): protect first books everyone before the first
    # message, so nobody is escalated for silence at the deadline, and fewer are escalated at all. (The passengers
    # impacted differ a little: a protection moves a booking at once, before the other disruptions are assessed.)
    protect = summary["protect_first"]
    assert protect["passengers_impacted"] > 0 and protect["oversold_seats"] == 0
    assert "deadline" not in protect["escalations_by_reason"] and summary["escalations_by_reason"]["deadline"] > 0
    assert protect["booked"] > summary["booked"]
    rates = summary["escalation_rate"]
    assert 0 <= rates["protect"] < rates["offer"] <= 1
