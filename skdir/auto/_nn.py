"""The skorch callback that stops a network candidate at its time limit (imports skorch)."""

from __future__ import annotations

import time
from typing import Any

from skorch.callbacks import Callback

__all__ = ["TimeLimit"]


class TimeLimit(Callback):
    """Stop training after the epoch that ends past ``deadline`` (``time.perf_counter``).

    skorch ends ``fit`` quietly on a ``KeyboardInterrupt`` raised by a callback and
    still runs ``on_train_end``, so the early-stopping callback restores the best
    epoch seen so far.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        if time.perf_counter() > self.deadline:
            raise KeyboardInterrupt
