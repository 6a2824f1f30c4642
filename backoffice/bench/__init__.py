"""Benchmarks of the whole product: synthetic portfolios and the timings the performance targets are checked by."""
