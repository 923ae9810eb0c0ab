"""The store: opening an event store from a URL, its contracts, the log and saved states.

It owns opening stores through their storage backends (``open_store``,
``store_env``), the guarded write that refuses stale decisions, the
``ReadModelStore`` contract, ``Log`` (reading the log in position order,
reading one entity's stream, appending) and the saved read model's format. It
may import ``domain``, ``codec`` and ``plugins``.
"""
