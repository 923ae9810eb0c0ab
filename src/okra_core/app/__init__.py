"""The application: ``Okra``, the one entry point, and the collaborators behind it.

It owns the facade ``Okra`` and what it delegates to: the live state kept
current from the log, finding entities by reference, the command side (one
collaborator per kind of entity: validate everything, decide, write once) and
the query side (look-ups, projections now or in the past, the log and
history). It may import every other part of okra_core.
"""
