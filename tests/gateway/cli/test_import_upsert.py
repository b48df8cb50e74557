"""`rebook import … --mode upsert` as the operator runs it: a summary of outcomes; a malformed file is one line, exit 2."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.cli.test_startup_errors import one_line, rebook

DAY = "2026-03-27"


def _flight(number: str, y: int = 150, **over: Any) -> dict[str, Any]:
    return {
        "carrier": "RB",
        "number": number,
        "date": DAY,
        "origin": "FRA",
        "destination": "MAD",
        "departure": f"{DAY}T09:00:00+01:00",
        "arrival": f"{DAY}T11:30:00+01:00",
        "cabins": {"Y": y, "J": 4},
        **over,
    }


def _booking(locator: str, version: int, number: str = "100", **over: Any) -> dict[str, Any]:
    return {
        "locator": locator,
        "version": version,
        "passengers": [
            {
                "given_name": "Ana",
                "family_name": "Ejemplo",
                "language": "es",
                "contacts": [
                    {
                        "channel": "sms",
                        "address": "+34600000001",
                        "consent": {"service": True, "marketing": False},
                    }
                ],
            }
        ],
        "segments": [{"carrier": "RB", "number": number, "date": DAY}],
        **over,
    }


def _write(path: Path, *rows: dict[str, Any] | str) -> str:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return str(path)


def _counts(stdout: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"^\s*([a-z ]+?)\s+(\d+)\s*$", stdout, re.M)}


@pytest.fixture
def env(empty_db_url: str) -> dict[str, str]:
    url = empty_db_url.replace("sqlite+aiosqlite", "sqlite")
    env = {"REBOOK_SANDBOX": "true", "REBOOK_DATABASE_URL": url}
    assert rebook("db", "upgrade", env=env).returncode == 0
    return env


def test_upsert_prints_outcomes_and_a_bad_row_loads_nothing(
    tmp_path: Path, env: dict[str, str]
) -> None:
    schedule = _write(tmp_path / "s.jsonl", _flight("100"), _flight("102"))
    assert rebook("import", "schedule", schedule, env=env).returncode == 0
    first = _write(tmp_path / "b1.jsonl", _booking("AAAAA1", 1), _booking("AAAAA2", 1))
    done = rebook("import", "bookings", first, "--mode", "upsert", env=env)
    assert done.returncode == 0, done.stderr
    assert _counts(done.stdout) == {
        "added": 2,
        "changed": 0,
        "cancelled": 0,
        "unchanged": 0,
        "stale": 0,
        "conversations closed": 0,
    }
    assert "Ana" not in done.stdout and "+34" not in done.stdout

    second = _write(
        tmp_path / "b2.jsonl",
        _booking("AAAAA1", 2, "102"),
        _booking("AAAAA2", 2, status="cancelled"),
        _booking("AAAAA3", 1),
    )
    done = rebook("import", "bookings", second, "--mode", "upsert", env=env)
    assert done.returncode == 0, done.stderr
    assert _counts(done.stdout) == {
        "added": 1,
        "changed": 1,
        "cancelled": 1,
        "unchanged": 0,
        "stale": 0,
        "conversations closed": 0,
    }
    again = rebook("import", "bookings", second, "--mode", "upsert", env=env)
    assert _counts(again.stdout)["unchanged"] == 3

    bad = _write(
        tmp_path / "b3.jsonl",
        _booking("AAAAA4", 1),
        '{"locator": "AAAAA5", "version": 1, "passengers": []}',
    )
    refused = rebook("import", "bookings", bad, "--mode", "upsert", env=env)
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    line = one_line(refused)
    assert "line 2: passengers" in line and "nothing was loaded" in line, line
    # AAAAA4 (line 1) was not added: a third run of file 2 still finds exactly its three bookings.
    assert (
        _counts(rebook("import", "bookings", second, "--mode", "upsert", env=env).stdout)[
            "unchanged"
        ]
        == 3
    )
    insert_again = rebook(
        "import", "bookings", _write(tmp_path / "b4.jsonl", _booking("AAAAA4", 1)), env=env
    )
    assert insert_again.returncode == 0, "AAAAA4 was not loaded by the refused file"


def test_schedule_upsert_refuses_a_capacity_below_what_is_sold(
    tmp_path: Path, env: dict[str, str]
) -> None:
    assert (
        rebook(
            "import", "schedule", _write(tmp_path / "s.jsonl", _flight("100", y=3)), env=env
        ).returncode
        == 0
    )
    booked = rebook(
        "import", "bookings", _write(tmp_path / "b.jsonl", _booking("AAAAA1", 1)), env=env
    )
    assert booked.returncode == 0
    shrink = _write(tmp_path / "s2.jsonl", _flight("102"), _flight("100", y=0))
    refused = rebook("import", "schedule", shrink, "--mode", "upsert", env=env)
    # Refused by what it meets in the database (not malformed): exit 1, as `rebook ingest` does.
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "line 2: cabins.Y: 0 seats is fewer than the 1 sold and 0 held" in refused.stderr
    grow = rebook(
        "import",
        "schedule",
        _write(tmp_path / "s3.jsonl", _flight("102"), _flight("100", y=9)),
        "--mode",
        "upsert",
        env=env,
    )
    assert grow.returncode == 0, grow.stderr
    assert _counts(grow.stdout) == {"added": 1, "changed": 1, "removed": 0, "unchanged": 0}
