"""The agent desk: escalations claimed by humans, their cards, relays and decisions."""
