"""Plugins: the descriptors plugins return, the notifier's values, the manager.

It owns the plugin types (``StorageBackend``, ``Notifier``, ...), finding and
checking plugins through pluggy (``Plugins``, ``load_plugins``) and, with the
public module ``okra_core.hookspecs``, the hooks themselves. It may import
``domain`` and ``codec``; it names ``Okra`` and the store's contracts in type
hints only.
"""
