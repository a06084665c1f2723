"""Benchmarks of credit-gateway: not tests, each prints ratios measured in one run.

The machine they run on is small and shared (2 noisy cores), so an absolute figure says little about
the code; a ratio against a reference measured in the same run, on the same cores, at the same time,
says much more. Run `python -m bench.fanout` (or `make bench`).
"""
