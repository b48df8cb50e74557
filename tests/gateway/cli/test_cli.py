"""The click CLI: help on everything, --version, one line and exit 2 for bad input, .env and unknown variables,
`keys generate`, the summary table of `import`, and .env.example against the Settings model."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import click
import pytest

from gateway.cli.environment import settings_variables, unknown_variables
from gateway.cli.main import cli, main
from gateway.settings import Settings
from tests.gateway.cli.test_startup_errors import ROOT, one_line, rebook


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in group.commands.items():
        found.append(((*path, name), command))
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
    return found


def test_every_command_and_option_has_help() -> None:
    commands = _commands(cli)
    names = {" ".join(path) for path, _ in commands}
    assert {"demo", "serve", "worker", "db upgrade", "import", "generate", "disrupt", "whatsapp templates", "purge",
            "keys rotate", "keys generate", "audit verify", "privacy schema", "dlq list", "dlq retry"} <= names
    for path, command in commands:
        assert command.help, f"rebook {' '.join(path)} has no help"
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert param.help, f"rebook {' '.join(path)} {param.opts[0]} has no help"


def test_the_options_scripts_use_keep_their_names() -> None:
    """Makefile, bench/, README, Dockerfile and compose call these."""
    serve = cli.commands["serve"]
    assert {o for p in serve.params for o in p.opts} >= {"--host", "--port", "--no-worker", "--workers"}
    demo = cli.commands["demo"]
    assert {o for p in demo.params for o in p.opts} >= {"--passengers", "--seed", "--disruptions", "--json", "--workdir"}
    gen = cli.commands["generate"]
    assert {o for p in gen.params for o in p.opts} >= {"--out", "--start", "--days", "--seed", "--passengers"}


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert re.fullmatch(r"rebook \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["disrupt", "RB", "123", "2026-12-01", "--delay-to", "2026-12-01T18:00:00"], "has no zone"),
        (["disrupt", "RB", "123", "2026-12-01", "--delay-to", "tomorrow 6pm"], "is not an ISO 8601 time"),
        (["disrupt", "RB", "123", "01/12/2026"], "is not a date"),
        (["generate", "--out", "x", "--start", "next week"], "is not a date"),
        (["serve", "--workers", "0"], "--workers"),
        (["import", "flights", "x.jsonl"], "KIND"),
        (["purge"], "--dry-run"),
        (["no-such-command"], "No such command"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], says: str, tmp_path: Path) -> None:
    line = one_line(rebook(*args, env={"REBOOK_SANDBOX": "true", "REBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}))
    assert says in line, line


def test_a_misspelt_variable_stops_the_start_naming_the_setting_meant(tmp_path: Path) -> None:
    result = rebook("db", "upgrade", env={"REBOOK_SANDBOX": "true", "REBOOK_DATABSE_URL": f"sqlite:///{tmp_path / 'r.db'}"})
    assert one_line(result) == "rebook: REBOOK_DATABSE_URL: not a setting; did you mean REBOOK_DATABASE_URL?"
    assert not (ROOT / ".rebook" / "r.db").exists()


def test_unknown_variables_are_judged_by_the_model() -> None:
    given = {
        "REBOOK_TWILIO__AUTH_TOKN": "x",
        "REBOOK_PACING__SMS__RATE": "1",
        "REBOOK_WHATSAPP__TEMPLATES": "{}",
        "REBOOK_EMAIL__FROM": "ops@rebook.example",
        "rebook_sandbox": "true",
        "REBOOK_TEST_REDIS_URL": "redis://",
        "REBOOK_SERVE_EMBEDDED_WORKER": "0",
        "REBOOKED": "1",
        "PATH": "/bin",
    }
    assert unknown_variables(given) == ["REBOOK_TWILIO__AUTH_TOKN: not a setting; did you mean REBOOK_TWILIO__AUTH_TOKEN?"]
    assert unknown_variables({"REBOOK_ZZZ": "1"}) == ["REBOOK_ZZZ: not a setting; see .env.example for every setting"]


def test_dot_env_in_the_working_directory_is_read_and_checked(tmp_path: Path) -> None:
    db = tmp_path / "from-dotenv.db"
    (tmp_path / ".env").write_text(f"REBOOK_SANDBOX=true\nREBOOK_DATABASE_URL=sqlite:///{db}\nOTHER_TOOL=1\n")
    ok = subprocess.run([*_cli(), "db", "upgrade"], cwd=tmp_path, env=_bare_env(), capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert db.stat().st_size > 0

    (tmp_path / ".env").write_text("REBOOK_SANDBOX=true\nREBOOK_SANDBOXX=true\n")
    bad = subprocess.run([*_cli(), "db", "upgrade"], cwd=tmp_path, env=_bare_env(), capture_output=True, text=True, check=False)
    assert one_line(bad) == "rebook: REBOOK_SANDBOXX: not a setting; did you mean REBOOK_SANDBOX?"


def _cli() -> list[str]:
    import sys

    return [sys.executable, "-m", "gateway.cli.main"]


def _bare_env() -> dict[str, str]:
    import os

    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), "PYTHONPATH": str(ROOT)}


def test_keys_generate_prints_keys_that_pass_the_start_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "generate", "--kid", "k7"]) == 0
    first = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines() if not line.startswith("#"))
    assert set(first) == {"REBOOK_PII_KEYS", "REBOOK_BLIND_INDEX_KEY", "REBOOK_OPS_API_KEYS"}
    assert first["REBOOK_PII_KEYS"].startswith("k7:")
    Settings(  # type: ignore[call-arg]
        _env_file=None,
        pii_keys=first["REBOOK_PII_KEYS"],
        blind_index_key=first["REBOOK_BLIND_INDEX_KEY"],
        ops_api_keys=first["REBOOK_OPS_API_KEYS"],
        public_base_url="https://rebook.example.test",
    )
    assert main(["keys", "generate"]) == 0
    second = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines() if not line.startswith("#"))
    assert not set(first.values()) & set(second.values()), "every run makes fresh secrets"

    assert main(["keys", "generate", "--kid", "k8", "--keep", first["REBOOK_PII_KEYS"]]) == 0
    rotated = capsys.readouterr().out
    pii = re.search(r"^REBOOK_PII_KEYS=(.+)$", rotated, re.M)
    assert pii and pii.group(1).startswith("k8:") and pii.group(1).endswith("," + first["REBOOK_PII_KEYS"])
    assert "\nREBOOK_BLIND_INDEX_KEY=" not in rotated, "a rotation keeps the blind-index key"


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    text = (ROOT / ".env.example").read_text()
    listed = re.findall(r"^#? ?(REBOOK_[A-Z0-9_]+)=", text, re.M)
    assert len(listed) == len(set(listed)), "a setting listed twice"
    assert set(listed) == set(settings_variables())
    assert unknown_variables(dict.fromkeys(listed, "")) == []


def test_import_prints_a_summary_table(tmp_path: Path) -> None:
    env = {"REBOOK_SANDBOX": "true", "REBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    assert rebook("db", "upgrade", env=env).returncode == 0
    assert rebook("generate", "--out", str(tmp_path / "data"), "--days", "1", "--passengers", "50", env=env).returncode == 0
    result = rebook("import", "schedule", str(tmp_path / "data" / "schedule.jsonl"), env=env)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^\s*flights\s+\d+\s*$", result.stdout, re.M), result.stdout
    assert "ImportReport(" not in result.stdout
