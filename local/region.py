"""Run a call as one region's function would: with that region's settings, one at a time."""

from __future__ import annotations

import threading
from contextvars import Token
from typing import Any

from mailcore.settings import Settings, active_settings

# moto's backends are not built for concurrent writers; one function runs at a time, as
# if each function had a reserved concurrency of one.
INVOKE_LOCK = threading.RLock()


class RegionScope:
    """A reusable `with` block: takes the invoke lock and makes `settings` the current ones."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._tokens = threading.local()

    def __enter__(self) -> RegionScope:
        INVOKE_LOCK.acquire()
        stack: list[Token[Any]] = self._tokens.__dict__.setdefault("stack", [])
        stack.append(active_settings.set(self.settings))
        return self

    def __exit__(self, *exc: object) -> None:
        active_settings.reset(self._tokens.stack.pop())
        INVOKE_LOCK.release()
