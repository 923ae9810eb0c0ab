"""okra_adapters: okra's built-in adapters (user interfaces, storage, notifications).

Adapters reach okra only through ``okra_core``'s public API.
"""
