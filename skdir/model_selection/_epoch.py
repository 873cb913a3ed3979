"""Epoch-level pruning of skorch nets (e.g. DIRRegressor) inside a DIRSearchCV trial."""

from __future__ import annotations

from typing import Any

from skorch.callbacks import Callback

from ._folds import _CURRENT_FOLD


class EpochPruning(Callback):
    """Report a skorch net's epoch scores to the DIRSearchCV trial that fits it, and prune.

    Add it to the net (``DIRRegressor(callbacks=[EpochPruning()])``). Outside a
    :class:`DIRSearchCV` trial, or when the search fits folds in parallel (``n_jobs`` > 1),
    it does nothing. Inside one it reports ``monitor`` (negated when ``lower_is_better``)
    after every epoch at step ``fold * (max_epochs + 1) + epoch - 1``, and the fold's
    running mean at step ``(fold + 1) * (max_epochs + 1) - 1``, so every trial reports
    epoch ``e`` of fold ``k`` at the same step and the pruner compares like with like.
    When the study's pruner says so, training stops (as skorch does on
    ``KeyboardInterrupt``) and the trial ends as pruned after that fold.

    The callback holds no trial (it reads the running fold from a context variable), so
    ``clone`` and pickling of the net are unaffected. Do not search ``max_epochs`` together
    with it: steps of trials with different ``max_epochs`` would not line up.

    Parameters
    ----------
    monitor : str, default="valid_loss"
        Name of the value in ``net.history`` to report (``"valid_loss"`` needs a validation
        split; ``"train_loss"`` always exists). Losses of different ``loss`` settings have
        different scales: when the loss is searched, add a skorch ``EpochScoring`` and
        monitor its name instead.
    lower_is_better : bool, default=True
        Whether smaller values of ``monitor`` are better (they are negated, the study
        maximises).
    warmup_epochs : int, default=2
        Epochs of each fold that are reported but never pruned.

    Examples
    --------
    >>> from skdir.model_selection import EpochPruning
    >>> from skdir.nn import DIRRegressor
    >>> net = DIRRegressor(max_epochs=30, callbacks=[EpochPruning()])
    """

    def __init__(
        self, monitor: str = "valid_loss", lower_is_better: bool = True, warmup_epochs: int = 2
    ) -> None:
        self.monitor = monitor
        self.lower_is_better = lower_is_better
        self.warmup_epochs = warmup_epochs

    def on_epoch_end(self, net: Any, **kwargs: Any) -> None:
        """Report the epoch's value and stop training if the trial should be pruned."""
        context = _CURRENT_FOLD.get()
        if context is None:
            return
        if self.monitor not in net.history[-1]:
            raise ValueError(
                f"EpochPruning monitors {self.monitor!r}, which the net's history does not "
                f"have (it has {sorted(net.history[-1])}). Use 'train_loss', or enable a "
                "validation split for 'valid_loss'."
            )
        context.epochs_per_fold = int(net.max_epochs)
        epoch = len(net.history)
        value = float(net.history[-1, self.monitor])
        step = context.fold * (context.epochs_per_fold + 1) + epoch - 1
        context.trial.report(-value if self.lower_is_better else value, step=step)
        if epoch > self.warmup_epochs and context.trial.should_prune():
            context.pruned = True
            raise KeyboardInterrupt  # skorch ends training cleanly on it
