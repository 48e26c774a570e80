"""Deterministic synthetic data for the demo, tests and benchmarks: workforce, objectives, replies."""
