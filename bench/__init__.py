"""Benchmarks of the catalog search and the chat stack; ``make bench`` runs them all."""
