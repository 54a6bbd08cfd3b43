"""Interoperability with belenios-tool: its archives and live scenarios (a package, so that
module names never clash with those of another test directory)."""
