"""The server's routes, one module per resource, each thin over the domain layer
(:mod:`plebiscite.service`)."""
