"""The HTTP server and its web pages."""
