"""Deterministic synthetic workforce, objectives and replies for the demo, tests and benchmarks."""
