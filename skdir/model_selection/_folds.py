"""What a running DIRSearchCV fold shares with the epoch-level pruning of its net.

Kept apart from :mod:`._epoch` (a skorch callback) so that the search itself imports
neither torch nor skorch.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

__all__ = ["_CURRENT_FOLD", "_FoldContext"]


@dataclass
class _FoldContext:
    """What a running fold shares with the :class:`EpochPruning` callbacks of its net."""

    trial: Any
    fold: int
    epochs_per_fold: int | None = None
    pruned: bool = False

    def fold_step(self, fold: int) -> int:
        """Step at which the running mean after ``fold`` is reported."""
        if self.epochs_per_fold is None:
            return fold
        return (fold + 1) * (self.epochs_per_fold + 1) - 1


#: Set by DIRSearchCV around each fold fitted in its own thread; ``None`` elsewhere.
_CURRENT_FOLD: ContextVar[_FoldContext | None] = ContextVar("skdir_fold", default=None)
