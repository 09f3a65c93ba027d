"""The benchmark: `python -m bench` (see bench.cli and the README's "Benchmark" section)."""
