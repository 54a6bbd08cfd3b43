"""Tests of plebiscite.compute (a package, so that module names never clash with those of
another test directory)."""
