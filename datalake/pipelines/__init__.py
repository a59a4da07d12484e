"""Pipelines: the functions job scripts and the CLI call; each wires ports to transforms."""
