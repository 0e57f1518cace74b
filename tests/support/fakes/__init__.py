"""Fake servers that speak real wire protocols, for tests through the real client libraries."""
