"""Opting in on a channel that cannot write first (Telegram): a signed deep link binds a chat to a passenger."""
