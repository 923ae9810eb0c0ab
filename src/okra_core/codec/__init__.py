"""The wire: events and states to JSON bytes and plain records, and back.

It owns the cattrs converter (strict decoding that names the bad field, and a
quick path for well-formed records), the eventsourcing mapper and transcoder,
``to_data`` and the generated event catalogue. It may import ``domain`` only.
"""
