"""okra's built-in storage backends, each a plugin in the ``okra`` entry-point group.

- :mod:`~okra_adapters.storage.memory`: ``memory://``, events in this process only;
- :mod:`~okra_adapters.storage.sqlite`: ``sqlite:///path``, an embedded file (the default);
- :mod:`~okra_adapters.storage.postgresql`: ``postgresql://user:password@host:port/db``.

They are registered exactly as a third-party backend would be, through the
``okra_storage_backends`` hook.
"""
