"""Pure cryptography: groups, hashing, proofs, shuffles, threshold helpers (no I/O)."""
