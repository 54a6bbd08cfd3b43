"""plebiscite: verifiable polls and referendums on the Belenios 2.0 protocol.

The package is layered, each layer importing only the ones below it (checked by
import-linter, see ``pyproject.toml``):

- :mod:`plebiscite.crypto`: pure group arithmetic, hashing and zero-knowledge proofs;
- :mod:`plebiscite.protocol`: pure Belenios messages, the archive format and the verifier;
- :mod:`plebiscite.cli`: the command-line tool, a thin layer over the library.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
