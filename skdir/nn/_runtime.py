"""Device, seeding, per-batch bookkeeping and pickling of :class:`~skdir.nn.DIRRegressor`."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import torch
from sklearn.utils import check_random_state
from skorch.callbacks import Callback

from ._data import TensorBatches

__all__ = ["RuntimeMixin", "check_device"]

#: The callback hooks skorch calls at every training batch.
_BATCH_HOOKS = frozenset({"on_batch_begin", "on_batch_end", "on_grad_computed"})


def check_device(device: Any) -> None:
    """Raise a ValueError unless ``device`` is ``"auto"`` or a usable torch device."""
    if device == "auto":
        return
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto' (CUDA when available, "
            "else the CPU), 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but CUDA is not available on this machine; use "
            "device='auto' (CUDA when present, else the CPU) or device='cpu'."
        )
    if parsed.type == "cuda" and parsed.index is not None:
        if parsed.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} but this machine has {torch.cuda.device_count()} CUDA "
                "device(s); use device='auto' or an index below that count."
            )
    if parsed.type not in ("cpu", "cuda", "mps", "xpu"):
        raise ValueError(
            f"device={device!r}: DIRRegressor runs on 'cpu', 'cuda' (and 'mps'/'xpu' where "
            "torch supports them); use device='auto' to pick CUDA when available."
        )


class RuntimeMixin:
    """Resolve ``device="auto"`` without mutating the parameter; seed torch per fit.

    skorch 1.4 has no ``device="auto"``: the resolved device is stored in
    ``device_`` at fit, and the skorch code that reads ``self.device`` sees it
    through :meth:`_device_resolved`. Training runs inside :meth:`_seeded`, which
    forks torch's global random state, so the caller's state is untouched.
    """

    def _resolve_device(self) -> str:
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device

    @property
    def _device(self) -> str:
        return getattr(self, "device_", None) or self._resolve_device()

    @contextmanager
    def _device_resolved(self):
        """Let skorch code that reads ``self.device`` see the resolved device."""
        requested = self.device
        if requested != "auto":
            yield
            return
        self.device = self._device
        try:
            yield
        finally:
            self.device = requested

    @contextmanager
    def _seeded(self):
        if self.random_state is None:
            self._split_seed_ = None
            yield
            return
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        self._split_seed_ = seed
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield

    def _initialize_module(self, reason=None):
        with self._device_resolved():
            return super()._initialize_module(reason=reason)

    def _initialize_criterion(self, reason=None):
        with self._device_resolved():
            return super()._initialize_criterion(reason=reason)

    def _set_training(self, training: bool = True) -> None:
        """Set training or evaluation mode on the modules and criteria not already in it.

        skorch calls this at every batch, and ``module.train(mode)`` walks the
        module tree setting every flag (a noticeable share of a small network's
        step); here a module whose submodules all have the requested mode is
        left alone, so that the outcome is skorch's: every submodule in
        ``training`` mode.
        """
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and any(
                sub.training != training for sub in module.modules()
            ):
                module.train(training)

    def notify(self, method_name: str, **cb_kwargs: Any) -> None:
        """Call the net's and the callbacks' hook ``method_name`` (see skorch).

        At the per-batch hooks (``on_batch_begin``, ``on_batch_end``,
        ``on_grad_computed``) a callback that keeps :class:`skorch.callbacks.Callback`'s
        empty method is skipped instead of called; the other hooks and every
        callback that defines the hook are called as skorch does, in order.

        Parameters
        ----------
        method_name : str
            The hook, such as ``"on_epoch_end"``.
        **cb_kwargs : dict
            Arguments of the hook.
        """
        if method_name not in _BATCH_HOOKS:
            super().notify(method_name, **cb_kwargs)
            return
        getattr(self, method_name)(self, **cb_kwargs)
        empty = getattr(Callback, method_name)
        for _, callback in self.callbacks_:
            hook = getattr(callback, method_name)
            if getattr(hook, "__func__", None) is not empty:
                hook(self, **cb_kwargs)

    def run_single_epoch(
        self, iterator: Any, training: bool, prefix: str, step_fn: Any, **fit_params: Any
    ) -> None:
        """Run one training or validation pass over ``iterator`` (see skorch).

        Over :class:`~skdir.nn._data.TensorBatches` the batch size is the
        length of the batch's targets and the batch's row of the history is
        written directly, instead of measuring every array of the input dict
        and indexing the history anew for each entry; the hooks, steps and
        history entries are skorch's.

        Parameters
        ----------
        iterator : iterable or None
            The batches; None skips the pass.
        training : bool
            Whether this is the training pass.
        prefix : str
            ``"train"`` or ``"valid"``: the prefix of the history entries.
        step_fn : callable
            Called on every batch; returns a dict with ``"loss"``.
        **fit_params : dict
            Passed to ``step_fn``.
        """
        if not isinstance(iterator, TensorBatches):
            super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
            return
        loss_key, size_key = prefix + "_loss", prefix + "_batch_size"
        batch_count = 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            row = list.__getitem__(self.history, -1)["batches"][-1]  # History is a list
            row[loss_key] = step["loss"].item()
            row[size_key] = len(batch[1])
            self.notify("on_batch_end", batch=batch, training=training, **step)
            batch_count += 1
        self.history.record(prefix + "_batch_count", batch_count)

    def load_params(self, *args: Any, **kwargs: Any) -> None:
        """Load parameters saved by ``save_params`` (see skorch)."""
        with self._device_resolved():
            super().load_params(*args, **kwargs)

    #: Training state that predict does not need; left out of pickles and rebuilt fresh
    #: on loading (a later ``partial_fit`` starts a new optimizer and new FDS statistics).
    _TRAINING_STATE = ("optimizer_", "feature_smoothing_")

    def __getstate__(self) -> dict:
        dropped = {k: self.__dict__.pop(k) for k in self._TRAINING_STATE if k in self.__dict__}
        try:
            return super().__getstate__()
        finally:
            self.__dict__.update(dropped)

    def __setstate__(self, state: dict) -> None:
        self._setstate_device(state)
        if getattr(self, "initialized_", False) and hasattr(self, "module_"):
            fds = getattr(self, "fds_", None)
            if fds is not None:
                layer = fds.build_layer(self.module_.embedding_dim)
                self.feature_smoothing_ = layer.to(self._device)
            self.initialize_optimizer()

    def _setstate_device(self, state: dict) -> None:
        requested = state.get("device")
        if requested == "auto":
            used = str(state.get("device_") or "cpu")
            state["device"] = "cuda" if used.startswith("cuda") else "cpu"
        super().__setstate__(state)
        if requested == "auto":
            self.device_ = self.device
            self.device = "auto"
        elif "device_" in state:
            self.device_ = self.device
