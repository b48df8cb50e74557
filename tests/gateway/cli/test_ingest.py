"""`rebook ingest ssm|mvt|asm FILE` as an operator runs it: schedule in, a delay and a cancellation applied once, malformed files refused in one line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.gateway.cli.test_startup_errors import one_line, rebook

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def ddmmmyy(d: dt.date) -> str:
    return f"{d.day:02d}{MONTHS[d.month - 1]}{d.year % 100:02d}"


def test_ingest_from_files(tmp_path: Path) -> None:
    env = {"REBOOK_SANDBOX": "true", "REBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    assert rebook("db", "upgrade", env=env).returncode == 0
    day = dt.date.today() + dt.timedelta(days=2)
    schedule = tmp_path / "winter.ssm"
    schedule.write_text(f"SSM\nUTC\nNEW\nRB391\n{ddmmmyy(day)} {ddmmmyy(day)} 1234567\nJ 320 J12Y162\nLHR0900 CDG1015\n")
    loaded = rebook("ingest", "ssm", str(schedule), env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "flights" in loaded.stdout and " 1" in loaded.stdout

    delay = tmp_path / "delay.mvt"
    delay.write_text(f"MVT\nRB391/{day.day:02d}.GREBA.LHR\nED{day.day:02d}1130\nDL93/0230\n")
    first = rebook("ingest", "mvt", str(delay), env=env)
    assert first.returncode == 0, first.stderr
    assert "applied" in first.stdout
    again = rebook("ingest", "mvt", str(delay), env=env)
    assert again.returncode == 0, again.stderr
    assert "duplicate" in again.stdout and "applied" not in again.stdout

    cancel = tmp_path / "cancel.asm"
    cancel.write_text(f"ASM\nUTC\nCNL\nRB391/{ddmmmyy(day)}\n//\nRB9999/{ddmmmyy(day)}\n")
    partly = rebook("ingest", "asm", str(cancel), env=env)
    assert partly.returncode == 1, partly.stderr
    assert "applied" in partly.stdout and "unknown_flight" in partly.stdout

    bad = tmp_path / "bad.mvt"
    bad.write_text("MVT\nRB391/06.GREBA.LHR\nXD061130\n")
    refused = one_line(rebook("ingest", "mvt", str(bad), env=env))
    assert refused == f"rebook: {bad}: line 3: movement: unknown action code 'XD' (AD, AA, ED, EA, NI, DL, PX, SI) — nothing was applied"
    assert one_line(rebook("ingest", "mvt", str(tmp_path / "missing.mvt"), env=env)).startswith("rebook: ingest: ")
    assert one_line(rebook("ingest", "xml", str(bad), env=env)).startswith("rebook: ingest: ")
