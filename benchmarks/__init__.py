"""Benchmarks that print figures; run them from the repository root: python -m benchmarks.X."""
