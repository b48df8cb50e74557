"""The `rebook` command line."""
