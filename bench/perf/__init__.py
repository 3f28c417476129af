"""The performance harness (`make bench`): one module per measurement, :mod:`bench.bench` runs them."""
