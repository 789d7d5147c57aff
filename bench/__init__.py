"""Benchmarks comparing symgraph with PyTorch."""
