"""Computation engines above the pure protocol: verification on a Dask cluster, and big
elections generated to measure with.

The protocol layer holds the pipeline's pure steps (the archive index, the map step over
ballots, the reduce in the verifier); this package runs the map step on a Dask cluster
(:mod:`plebiscite.compute.cluster`) and makes valid elections of any size on any
:class:`concurrent.futures.Executor`, a process pool or a cluster's
(:mod:`plebiscite.compute.generate`). Dask is an optional dependency (``plebiscite[cluster]``),
imported only when a cluster is used.
"""

from __future__ import annotations

__all__: list[str] = []
