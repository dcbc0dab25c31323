"""Benchmarks: model × dataset specs, the runner, result files and plots."""
