"""Disruption intake: assess who is impacted and fan options out to every booking."""
