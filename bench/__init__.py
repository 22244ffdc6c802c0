"""Benchmarks that print figures (README "Benchmarks"); not part of the product."""
