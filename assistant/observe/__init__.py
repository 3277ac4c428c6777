"""Observability: Prometheus metrics, readiness, analytics from Rasa's events, CSAT (issue #14)."""
