"""Computation engines above the pure protocol: verification on a Dask cluster.

The protocol layer holds the pipeline's pure steps (the archive index, the map step over
ballots, the reduce in the verifier); this package runs the map step on a Dask cluster
(:mod:`plebiscite.compute.cluster`). Dask is an optional dependency (``plebiscite[cluster]``),
imported only when a cluster is used.
"""

from __future__ import annotations

__all__: list[str] = []
