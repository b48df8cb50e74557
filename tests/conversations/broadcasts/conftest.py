"""Broadcast tests reuse the engine rig and the Slack desk fixtures."""

from tests.conversations.conftest import clock, rig  # noqa: F401  (fixtures)
from tests.e2e.desk.conftest import desk, fake, settings_overrides, slack_server  # noqa: F401  (fixtures)
