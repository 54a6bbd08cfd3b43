"""Browser and web-page tests (a package: its conftest does not shadow tests/conftest.py)."""
