"""The append-only public board (SQLite by default, PostgreSQL at scale)."""
