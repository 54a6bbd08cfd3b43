"""Tests of plebiscite.crypto (a package, so that module names never clash with those of
another test directory)."""
