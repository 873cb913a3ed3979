"""Opening Optuna storages and studies for :class:`DIRSearchCV`."""

from __future__ import annotations

import warnings
from typing import Any

import optuna
from optuna.storages import (
    BaseStorage,
    JournalStorage,
    RDBStorage,
    RetryHeartbeatStaleTrialCallback,
)
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

#: Seconds between heartbeats of a running trial on an RDB storage given as a URL.
HEARTBEAT_INTERVAL = 60
#: Seconds without a heartbeat after which a running trial counts as dead and is failed.
GRACE_PERIOD = 180

#: User attribute set on every trial that DIRSearchCV evaluated (with its fold results).
RESULT_ATTR = "skdir_result"


def open_storage(storage: Any) -> BaseStorage | None:
    """Turn ``storage`` into an Optuna storage.

    ``None`` keeps the study in memory. A string ending in ``.log`` / ``.journal`` or starting
    with ``journal:`` opens a :class:`~optuna.storages.JournalStorage` on that file; any
    other string is a SQLAlchemy URL (``sqlite:///study.db``,
    ``postgresql+psycopg2://user:pw@host/db``, ``mysql+pymysql://...``) opened as an
    :class:`~optuna.storages.RDBStorage` with a heartbeat, so that trials of a killed worker
    are marked failed and retried once. Storage objects are used as given.
    """
    if storage is None or isinstance(storage, BaseStorage):
        return storage
    if not isinstance(storage, str):
        raise ValueError(
            "storage must be None, a URL string, a journal file path or an optuna storage, "
            f"got {type(storage).__name__}."
        )
    if storage.startswith("journal:") or storage.endswith((".log", ".journal")):
        path = storage.removeprefix("journal:")
        try:
            return JournalStorage(JournalFileBackend(path))
        except Exception as exc:
            raise ValueError(f"Cannot open the journal file {path!r}: {exc}") from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(
                storage,
                heartbeat_interval=HEARTBEAT_INTERVAL,
                grace_period=GRACE_PERIOD,
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
            )
    except Exception as exc:
        raise ValueError(
            f"Cannot open the Optuna storage {storage!r}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0]}. Check the URL, that the database server is "
            "running and reachable, and that its driver (psycopg2, pymysql) is installed."
        ) from exc


def check_maximize(study: optuna.Study) -> None:
    """Raise unless ``study`` has a single "maximize" objective (scikit-learn scorers)."""
    if len(study.directions) != 1:
        raise ValueError(
            f"Study {study.study_name!r} has {len(study.directions)} objectives; "
            "DIRSearchCV optimises one scorer and needs a single-objective study."
        )
    if study.direction != optuna.study.StudyDirection.MAXIMIZE:
        raise ValueError(
            f"Study {study.study_name!r} exists with direction 'minimize', but scikit-learn "
            "scorers are maximised (losses are negated, e.g. 'neg_mean_absolute_error'). "
            "Use another study_name, or delete the study with optuna.delete_study."
        )


def counted_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Return the finished trials that count toward ``n_trials``.

    Complete and pruned trials, and trials this search failed on purpose (fit errors with a
    NaN ``error_score``). Trials failed by a heartbeat (a killed worker) do not count: they
    are retried.
    """
    trials = study.get_trials(
        deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    )
    return [t for t in trials if t.state != TrialState.FAIL or RESULT_ATTR in t.user_attrs]
