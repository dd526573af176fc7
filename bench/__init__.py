"""Benchmarks: chanx on each framework against the same framework doing the same work by
hand. Run with ``hatch run bench``; see ``bench/README.md``."""
