"""Side-by-side performance measurements of Gridline against a reference tool.

Run with `./gridline bench [case ...]` (or `python -m bench [case ...]` with the environment
of .env and DATABASE_URL set). Every case times our code path and a reference doing the same
job, interleaved in one run, and reports the ratio of the medians (ours / reference) against a
target. Results go to bench/results/<case>.json and bench/results/latest.md.
"""
