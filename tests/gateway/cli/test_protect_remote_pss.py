"""Protect-first books only in rebook's tables: with a remote PSS the gateway and worker refuse to start (the demo pins the built-in PSS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gateway.cli.test_startup_errors import STRONG, one_line, rebook

REMOTE = {"REBOOK_PSS__ADAPTER": "http", "REBOOK_PSS__BASE_URL": "http://127.0.0.1:1", "REBOOK_PSS__TOKEN": "t0ken-for-the-pss"}


@pytest.mark.parametrize("command", [["worker"], ["serve", "--port", "0"]])
def test_protect_first_with_a_remote_pss_exits_2_naming_both_settings(command: list[str], tmp_path: Path) -> None:
    env = {**STRONG, **REMOTE, "REBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "REBOOK_FIRST_CONTACT": "protect"}

    line = one_line(rebook(*command, env=env))

    assert "REBOOK_FIRST_CONTACT=protect needs the built-in PSS" in line
    assert "REBOOK_PSS__ADAPTER" in line
    assert "t0ken" not in line
    assert not (tmp_path / "r.db").exists(), "nothing was touched before the settings were valid"


def test_protect_first_also_refused_in_the_sandbox(tmp_path: Path) -> None:
    env = {**REMOTE, "REBOOK_SANDBOX": "true", "REBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "REBOOK_FIRST_CONTACT": "protect"}
    assert "needs the built-in PSS" in one_line(rebook("db", "upgrade", env=env))


def test_offer_first_with_a_remote_pss_passes_the_settings(tmp_path: Path) -> None:
    env = {**REMOTE, "REBOOK_SANDBOX": "true", "REBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    result = rebook("db", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
