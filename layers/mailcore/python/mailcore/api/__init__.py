"""The HTTP API: one resolver, routes grouped by concern, errors answered in one place."""
