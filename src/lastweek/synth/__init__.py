"""Deterministic synthetic data (workforce, objectives, replies) for the demo, the tests and the benchmarks."""
