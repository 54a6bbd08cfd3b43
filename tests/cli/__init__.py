"""Tests of the plebiscite command, plebiscite.cli (a package, so that module names never
clash with those of another test directory)."""
