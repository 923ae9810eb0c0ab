"""The domain: what okra's words mean and the rules they obey, with no I/O.

It owns the values (confidence, pace bands, the playbook's settings), the
metrics and their attainment formulas, the event types (each a fact, with a
stable wire name), the entities (cycle, objective, key result, action,
playbook, subscription) and the rules that fold events into them, and okra's
errors. It imports nothing else of okra_core, and nothing but attrs and the
standard library.
"""
