"""okra's benchmark suite: the same workloads on okra and on its baselines, in one run.

Run it from the repository root with ``python -m bench`` (``make bench``), or
``python -m bench --quick`` for a run of seconds that only proves the suite works.
See docs/performance.md for the workloads and the targets.
"""
