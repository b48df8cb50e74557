"""`rebook disrupt` follows a flight's story (#16): a second event updates the same disruption; a delay not after the schedule is exit 2."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from tests.gateway.cli.test_startup_errors import one_line, rebook


def test_disrupt_updates_the_live_disruption_and_refuses_a_delay_before_the_schedule(tmp_path: Path) -> None:
    env = {"REBOOK_SANDBOX": "true", "REBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    assert rebook("db", "upgrade", env=env).returncode == 0
    data = tmp_path / "data"
    assert rebook("generate", "--out", str(data), "--days", "1", "--passengers", "40", env=env).returncode == 0
    for kind, name in (("schedule", "schedule.jsonl"), ("bookings", "bookings.jsonl")):
        assert rebook("import", kind, str(data / name), env=env).returncode == 0
    flight = json.loads((data / "schedule.jsonl").read_text().splitlines()[0])
    departure = dt.datetime.fromisoformat(flight["departure"]).astimezone(dt.UTC)
    args = ("disrupt", flight["carrier"], flight["number"], flight["date"])

    early = one_line(rebook(*args, "--delay-to", departure.isoformat(), env=env))
    assert "after the schedule" in early, early

    later = (departure + dt.timedelta(hours=4)).isoformat()
    first = rebook(*args, "--delay-to", later, env=env, timeout=120)
    assert first.returncode == 0, first.stderr
    cancel = rebook(*args, env=env, timeout=120)
    assert cancel.returncode == 0, cancel.stderr
    ids = [re.search(r"disruption (\d+) recorded", r.stdout) for r in (first, cancel)]
    assert ids[0] is not None and ids[1] is not None
    assert ids[0][1] == ids[1][1], "the cancellation updated the delay's disruption"
