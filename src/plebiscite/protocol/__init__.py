"""The Belenios 2.0 protocol: messages, the archive format and the verifier (pure: no I/O
beyond the streams it is given)."""
