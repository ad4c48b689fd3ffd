"""Benchmarks run by hand or by `make bench-*`, not by `make test`."""
