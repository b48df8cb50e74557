"""`rebook whatsapp templates` prints what to submit to Meta for every bound template key."""

from __future__ import annotations

import json

import pytest

from gateway.cli.main import main


def test_prints_the_notice_escalation_and_broadcast_templates_in_every_language(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REBOOK_SANDBOX", "true")
    assert main(["whatsapp", "templates"]) == 0
    definitions = json.loads(capsys.readouterr().out)
    by_name: dict[str, set[str]] = {}
    for d in definitions:
        by_name.setdefault(d["name"], set()).add(d["language"])
    languages = {"en_US", "es", "de", "fr", "ar"}
    assert by_name == {
        "rebook_disruption_notice": languages,
        "rebook_escalation_notice": languages,
        "rebook_broadcast_notice": languages,
    }
    for name in ("rebook_broadcast_notice", "rebook_escalation_notice"):
        plain = next(d for d in definitions if d["name"] == name)
        assert [c["type"] for c in plain["components"]] == ["BODY"]
    escalation = next(d for d in definitions if d["name"] == "rebook_escalation_notice" and d["language"] == "de")
    assert "{{1}}" in escalation["components"][0]["text"] and "{{2}}" in escalation["components"][0]["text"]


def test_a_renamed_broadcast_template_is_printed_under_its_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REBOOK_SANDBOX", "true")
    monkeypatch.setenv(
        "REBOOK_WHATSAPP__TEMPLATES",
        '{"broadcast_notice": {"en": {"name": "acme_ops_text", "language": "en_GB"}}}',
    )
    assert main(["whatsapp", "templates"]) == 0
    [definition] = json.loads(capsys.readouterr().out)
    assert definition["name"] == "acme_ops_text" and definition["language"] == "en_GB"
    assert "{{2}}" in definition["components"][0]["text"]
