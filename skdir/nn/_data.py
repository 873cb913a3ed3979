"""Training, evaluation and prediction data of :class:`~skdir.nn.DIRRegressor`.

The regressor hands skorch a dict per sample set: ``"X"`` (float32 inputs),
``"sample_weight"`` (the weighter's weights times the user's), ``"bins"`` (flat
FDS bins) and, when a regulariser needs them, ``"label_bins"`` (per-target bins
of ``label_density_``); the targets are the network's (after
``target_transformer``), 2-D float32.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from sklearn.utils.validation import _check_sample_weight, check_consistent_length, validate_data
from skorch.dataset import Dataset, ValidSplit
from torch.utils.data import DataLoader, Subset

from .._validation import check_target
from ..weighting import weights_for
from ._bags import validate_bags

__all__ = ["DataMixin", "TensorBatches"]

#: Rows per forward pass in predict (no gradients are kept, so memory is the output).
PREDICT_BATCH_SIZE = 4096


def _unwrap(dataset: Any) -> tuple[Any, Any, torch.Tensor]:
    """Return the arrays of a skorch Dataset (or nested Subsets of one) and its row indices."""
    if isinstance(dataset, Subset):
        X, y, rows = _unwrap(dataset.dataset)
        return X, y, rows[torch.as_tensor(np.asarray(dataset.indices), dtype=torch.long)]
    if type(dataset) is not Dataset:
        raise TypeError(f"TensorBatches reads skorch Datasets, got {type(dataset).__name__}.")
    return dataset.X, dataset.y, torch.arange(len(dataset))


def _as_tensor(values: Any, device: str) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values)).to(device)


class TensorBatches:
    """Mini-batches sliced from whole tensors, a drop-in for skorch's DataLoader.

    skorch's default path builds every batch one row at a time from the
    dataset's dict of arrays (``X``, weights, bins) and collates the rows; here
    the arrays become tensors once (on the training device) and each batch is
    one ``index_select`` per array. The random draws match a ``DataLoader`` with
    ``RandomSampler`` exactly (one base seed per pass, then the sampler's seed
    and permutation), so training is bit-identical to skorch's iterator.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset or torch.utils.data.Subset of one
        The data; ``X`` an array or a dict of arrays, ``y`` an array or None.
    batch_size : int
        Rows per batch (-1: all).
    shuffle : bool, default=False
        Draw a new row order at every pass.
    device : str, default="cpu"
        Where the tensors live.
    """

    def __init__(
        self, dataset: Any, batch_size: int, shuffle: bool = False, device: str = "cpu"
    ) -> None:
        X, y, self.rows = _unwrap(dataset)
        if isinstance(X, Mapping):
            self.X = {key: _as_tensor(value, device) for key, value in X.items()}
        else:
            self.X = _as_tensor(X, device)
        self.y = None if y is None else _as_tensor(y, device)
        n = len(self.rows)
        self.batch_size = n if batch_size == -1 else int(batch_size)
        self.shuffle = shuffle
        self.dataset = dataset

    def __len__(self) -> int:
        return -(-len(self.rows) // max(self.batch_size, 1))

    def __iter__(self) -> Iterator[tuple[Any, torch.Tensor]]:
        torch.empty((), dtype=torch.int64).random_()  # a DataLoader's base seed
        rows = self.rows
        if self.shuffle:
            seed = int(torch.empty((), dtype=torch.int64).random_().item())
            generator = torch.Generator()
            generator.manual_seed(seed)
            rows = rows[torch.randperm(len(rows), generator=generator)]
        first = next(iter(self.X.values())) if isinstance(self.X, dict) else self.X
        rows = rows.to(first.device)
        for start in range(0, len(rows), max(self.batch_size, 1)):
            index = rows[start : start + self.batch_size]
            # index_select gathers rows several times faster than X[index]
            if isinstance(self.X, dict):
                Xi = {key: value.index_select(0, index) for key, value in self.X.items()}
            else:
                Xi = self.X.index_select(0, index)
            yi = torch.zeros(len(index)) if self.y is None else self.y.index_select(0, index)
            yield Xi, yi


def reject_3d(X: Any) -> None:
    """Raise a ValueError for 3-D input to a module that takes 2-D rows."""
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) == 3:
        raise ValueError(
            f"X has 3 dimensions {tuple(shape)}, but DIRRegressor takes 2-D X "
            "(n_samples, n_features). Aggregate the fragments of each sample into one "
            "row first (skdir.fragments.FragmentAggregator)."
        )


class DataMixin:
    """Validate inputs and targets and pack them into skorch's per-sample dicts."""

    def _takes_bags(self) -> bool:
        return bool(getattr(self._module_class(), "accepts_bags", False))

    def _validate_X(self, X: ArrayLike, reset: bool) -> NDArray[np.float32]:
        if self._takes_bags():  # bag modules: NaN-padded (n_bags, max_fragments, d)
            return validate_bags(self, X, reset)
        reject_3d(X)
        return validate_data(self, X, dtype=np.float32, reset=reset)

    def _validate_training_data(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None, reset: bool
    ) -> tuple[NDArray, NDArray[np.float64], NDArray[np.float64] | None]:
        if y is None:
            raise ValueError(
                "DIRRegressor requires y to be passed, but the target y is None; pass the "
                "training targets."
            )
        if self._takes_bags():
            X = validate_bags(self, X, reset)
            y = validate_data(self, y=y, multi_output=True, y_numeric=True)
            check_consistent_length(X, y)
        else:
            reject_3d(X)
            X, y = validate_data(
                self, X, y, reset=reset, dtype=np.float32, multi_output=True, y_numeric=True
            )
        y = check_target(
            y,
            estimator=self,
            reset=reset,
            attribute="n_outputs_",
            max_targets=np.inf,  # type: ignore[arg-type]
        )
        if sample_weight is not None:
            weights = np.asarray(sample_weight)
            n_weights = len(np.atleast_1d(weights))
            if weights.ndim == 1 and n_weights != len(y):
                raise ValueError(
                    f"sample_weight has {n_weights} entries but X has {len(y)} rows. When "
                    "a sampler before this step changed the rows, the weights no longer "
                    "describe them: use skdir.pipeline.make_pipeline, which resamples the "
                    "weights with the rows."
                )
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        return X, y, sample_weight

    def _pack(
        self,
        X: NDArray[np.float32],
        y: NDArray[np.float64],
        sample_weight: NDArray[np.float64] | None,
        weight: NDArray[np.float64] | None = None,
    ) -> tuple[dict[str, NDArray], NDArray[np.float32]]:
        """Return skorch's input dict and the network's targets for raw targets ``y``.

        ``weight`` is the weighter's weights of these rows when already known (the
        training rows at ``fit``); otherwise the fitted weighter gives them.
        """
        columns = y.reshape(len(y), -1)
        if weight is None:
            weight = np.ones(len(y))
            if self.weighter_ is not None:
                weight = weights_for(self.weighter_, X, y)
        if sample_weight is not None:
            weight = weight * sample_weight
        if self.target_transformer_ is not None:
            columns = np.asarray(self.target_transformer_.transform(columns), dtype=np.float64)
            if not np.all(np.isfinite(columns)):
                raise ValueError(
                    "target_transformer produced NaN or infinite targets; check that it "
                    "accepts every training target."
                )
            columns = columns.reshape(len(y), -1)
        bins = self.fds_.bin_index(y) if self.fds_ is not None else np.zeros(len(y), np.int64)
        X_dict = {"X": X, "sample_weight": weight.astype(np.float32), "bins": bins}
        if "label_bins" in self._needs():
            label_bins = self.label_density_.bin_index(y)
            X_dict["label_bins"] = np.asarray(label_bins, dtype=np.int64).reshape(len(y), -1)
        return X_dict, columns.astype(np.float32)

    def _prepare_eval_set(self, eval_set: Any) -> tuple[dict[str, NDArray], NDArray]:
        try:
            X_val, y_val = eval_set
        except (TypeError, ValueError) as exc:
            raise ValueError("eval_set must be a pair (X_val, y_val).") from exc
        X_val = self._validate_X(X_val, reset=False)
        y_val = check_target(
            y_val,
            estimator=self,
            reset=False,
            attribute="n_outputs_",
            name="eval_set targets",
            max_targets=np.inf,  # type: ignore[arg-type]
        )
        if len(y_val) != len(X_val):
            raise ValueError(
                f"eval_set targets have {len(y_val)} rows, which does not match X_val's "
                f"{len(X_val)} rows."
            )
        return self._pack(X_val, y_val, None)

    def get_iterator(self, dataset: Any, training: bool = False) -> Any:
        """Return the batches of ``dataset``: :class:`TensorBatches` unless customised.

        A user's own ``iterator_train``/``iterator_valid`` class or loader
        options (``num_workers``, ``collate_fn``, ...) go through skorch's
        ``DataLoader`` path unchanged.
        """
        name = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(name)
        batch_size = kwargs.pop("batch_size", self.batch_size)
        shuffle = bool(kwargs.pop("shuffle", False))
        custom = getattr(self, name) is not DataLoader or kwargs
        if custom or not isinstance(dataset, (Dataset, Subset)):
            return super().get_iterator(dataset, training=training)
        try:
            return TensorBatches(dataset, batch_size, shuffle=shuffle, device=self._device)
        except TypeError:  # a dataset of the user's own class
            return super().get_iterator(dataset, training=training)

    def _forward_chunks(
        self, X: NDArray, forward: Callable[[torch.Tensor], Any] | None = None
    ) -> Iterator[Any]:
        """Yield ``forward(chunk)`` (default :meth:`infer`) over large chunks of ``X``, no grad."""
        forward = self.infer if forward is None else forward
        self._set_training(False)
        device = self._device
        with torch.no_grad():
            for start in range(0, len(X), PREDICT_BATCH_SIZE):
                chunk = torch.as_tensor(X[start : start + PREDICT_BATCH_SIZE]).to(device)
                yield forward(chunk)

    def get_split_datasets(self, X: Any, y: Any = None, **fit_params: Any) -> tuple:
        """Return the training dataset and the validation dataset (or None)."""
        eval_data = getattr(self, "_eval_data_", None)
        if eval_data is not None:
            return self.get_dataset(X, y), self.get_dataset(*eval_data)
        if self.train_split is not None:
            return super().get_split_datasets(X, y, **fit_params)
        dataset = self.get_dataset(X, y)
        if not self.validation_fraction:
            return dataset, None
        split = ValidSplit(self.validation_fraction, random_state=self._split_seed_)
        return split(dataset, y, **fit_params)
