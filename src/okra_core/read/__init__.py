"""The read side: pure projections of a ``World`` of entity states, and history.

It owns ``World`` (every entity at one instant), progress and pace, alignment,
focus, scores and reviews, bets and calibration, explanations, the audit log's
entries and diffs, and each entity's indexed history for time travel. Nothing
here does I/O: every answer is a function of the states (and events) it is
given. It may import ``domain`` and ``codec``.
"""
