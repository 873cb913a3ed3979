"""Device, seeding and pickling of :class:`~skdir.nn.DIRRegressor`."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import torch
from sklearn.utils import check_random_state

__all__ = ["RuntimeMixin", "check_device"]


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
