"""Opening Optuna storages and studies for :class:`DIRSearchCV`."""

from __future__ import annotations

import os
import random
import socket
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import optuna
import sqlalchemy.engine
import sqlalchemy.exc
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
#: User attribute set when a DIRSearchCV worker starts a trial: ``"host:pid"`` of its process.
WORKER_ATTR = "skdir_worker"
#: User attribute of the study: the search that made it (``search_signature``), so that a
#: re-run with another space or scoring is told so instead of mixing its trials in.
SEARCH_ATTR = "skdir_search"

#: Attempts at creating Optuna's tables and the study when other processes race to do the same.
CREATE_ATTEMPTS = 8
#: First backoff between attempts, in seconds; it doubles per attempt (randomised, capped).
CREATE_BACKOFF = 0.05
#: Longest backoff between two attempts, in seconds.
CREATE_BACKOFF_CAP = 1.0

# Messages of the database errors that a process gets when another one created the same
# tables, type, version row or study a moment earlier (SQLite, PostgreSQL, MySQL wordings).
_RACE_MESSAGES = ("already exists", "duplicate", "database is locked", "deadlock")

_T = TypeVar("_T")


class CreationRaceLost(ValueError):
    """Creating the storage or study kept colliding with other processes doing the same."""


def _is_creation_race(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it was raised from) is a lost race to create the schema.

    Optuna creates its tables, its version rows and the study without guarding against
    other processes doing the same at the same moment; the loser gets an integrity error
    (a duplicate key) or an "already exists" / "database is locked" error. A refused
    connection, a wrong password or a missing driver are not races.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlalchemy.exc.IntegrityError):
            return True
        if isinstance(current, sqlalchemy.exc.DBAPIError):
            message = str(current.orig if current.orig is not None else current).lower()
            if any(text in message for text in _RACE_MESSAGES):
                return True
        current = current.__cause__ or current.__context__
    return False


def retry_creation(create: Callable[[], _T], what: str) -> _T:
    """Call ``create`` until it does not lose a creation race to another process.

    Parameters
    ----------
    create : callable
        Opens a storage or creates-or-loads a study; called again after a short randomised
        backoff when it fails with a race (:func:`_is_creation_race`), at most
        :data:`CREATE_ATTEMPTS` times in all. Any other error is raised at once.
    what : str
        What ``create`` makes, for the error message.

    Returns
    -------
    result : object
        What ``create`` returned.
    """
    draw = random.SystemRandom()  # never touches the global or the user's random state
    for attempt in range(CREATE_ATTEMPTS):
        try:
            return create()
        except Exception as exc:
            if not _is_creation_race(exc):
                raise
            if attempt == CREATE_ATTEMPTS - 1:
                raise CreationRaceLost(
                    f"Could not create {what}: {CREATE_ATTEMPTS} attempts collided with other "
                    f"processes creating it at the same moment (last error: "
                    f"{type(exc).__name__}: {str(exc).splitlines()[0]}). Start the worker "
                    "again, or create the study once before starting the workers "
                    "(optuna create-study --storage URL --study-name NAME --direction maximize)."
                ) from exc
            backoff = min(CREATE_BACKOFF_CAP, CREATE_BACKOFF * 2**attempt)
            time.sleep(draw.uniform(0.5, 1.0) * backoff)
    raise AssertionError("unreachable")  # pragma: no cover


def shown_storage(storage: Any) -> str:
    """Return ``repr(storage)`` for messages, with the password of a database URL masked."""
    if isinstance(storage, str) and "://" in storage:
        try:
            return repr(sqlalchemy.engine.make_url(storage).render_as_string(hide_password=True))
        except Exception:
            return "<a database URL>"
    return repr(storage)


def open_storage(storage: Any) -> BaseStorage | None:
    """Turn ``storage`` into an Optuna storage.

    ``None`` keeps the study in memory. A string ending in ``.log`` / ``.journal`` or starting
    with ``journal:`` opens a :class:`~optuna.storages.JournalStorage` on that file; any
    other string is a SQLAlchemy URL (``sqlite:///study.db``,
    ``postgresql+psycopg2://user:pw@host/db``, ``mysql+pymysql://...``) opened as an
    :class:`~optuna.storages.RDBStorage` with a heartbeat, so that trials of a killed worker
    are marked failed and retried once. Storage objects are used as given.

    Several processes may open the same fresh database at once: the ones that lose the race
    to create Optuna's tables retry (:func:`retry_creation`).
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

    def create() -> RDBStorage:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(
                storage,
                heartbeat_interval=HEARTBEAT_INTERVAL,
                grace_period=GRACE_PERIOD,
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
            )

    try:
        return retry_creation(create, f"Optuna's tables in {shown_storage(storage)}")
    except CreationRaceLost:
        raise
    except Exception as exc:
        raise ValueError(
            f"Cannot open the Optuna storage {shown_storage(storage)}: {type(exc).__name__}: "
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


def create_or_load_study(
    storage: BaseStorage | None,
    *,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
    study_name: str | None,
) -> optuna.Study:
    """Create the "maximize" study ``study_name`` in ``storage``, or load it if it exists.

    Safe when several processes do it at the same moment on a fresh storage: a process
    that collides with another one creating the same rows retries (:func:`retry_creation`).
    """

    def create() -> optuna.Study:
        return optuna.create_study(
            storage=storage,
            sampler=sampler,
            pruner=pruner,
            study_name=study_name,
            direction="maximize",
            load_if_exists=True,
        )

    return retry_creation(create, f"the study {study_name!r}")


def worker_id() -> str:
    """Return ``"host:pid"`` of this process, as stored in :data:`WORKER_ATTR`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _worker_exited(worker: str) -> bool:
    """Whether ``worker`` (``"host:pid"``) names a process of this machine that has exited.

    Workers of other machines, and any process this one cannot check, count as running.
    """
    host, _, pid_text = worker.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit() or os.name == "nt":
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists, under another user
    try:  # a killed process nobody has waited for yet lingers as a zombie
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def heartbeat_settings(storage: BaseStorage | None) -> tuple[int, int] | None:
    """Return ``(heartbeat interval, grace period)`` in seconds of ``storage``, or ``None``."""
    backend = getattr(storage, "_backend", storage)  # optuna caches an RDBStorage in a wrapper
    interval = getattr(backend, "heartbeat_interval", None)
    if not interval:
        return None
    return int(interval), int(getattr(backend, "grace_period", None) or 2 * interval)


def _numbers(trials: list[optuna.trial.FrozenTrial]) -> str:
    return ", ".join(str(t.number) for t in trials)


def warn_stale_running_trials(study: optuna.Study, storage: BaseStorage | None) -> None:
    """Warn about ``RUNNING`` trials of a resumed stored study that no worker will finish.

    A trial is stale when DIRSearchCV did not start it (no :data:`WORKER_ATTR`: a
    ``study.ask()`` without ``tell``, another tool) or when its DIRSearchCV worker ran on
    this machine and has exited (killed, out of memory). Trials of workers on other
    machines cannot be checked and are taken as running. Stale trials do not count toward
    ``n_trials``; the warning says how many there are, their numbers, whether the storage's
    heartbeat will fail and retry them, and how to fail them by hand.

    Parameters
    ----------
    study : optuna.Study
        The study being resumed.
    storage : optuna storage or None
        Its storage, to tell whether it has a heartbeat.
    """
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    foreign = [t for t in running if WORKER_ATTR not in t.user_attrs]
    exited = [
        t
        for t in running
        if WORKER_ATTR in t.user_attrs and _worker_exited(str(t.user_attrs[WORKER_ATTR]))
    ]
    stale = sorted(foreign + exited, key=lambda t: t.number)
    if not stale:
        return
    one = len(stale) == 1
    parts = [
        f"Study {study.study_name!r} holds {len(stale)} stale RUNNING "
        f"trial{'' if one else 's'}, which no running worker will finish and which "
        f"do{'es' if one else ''} not count toward n_trials: "
        f"number{'' if one else 's'} {_numbers(stale)}."
    ]
    heartbeat = heartbeat_settings(storage)
    # trials that stay RUNNING until someone fails them
    forever = foreign if heartbeat is not None else stale
    if foreign:
        parts.append(
            f"Not started by a DIRSearchCV worker (e.g. study.ask() without tell), so they "
            f"stay RUNNING until told: {_numbers(foreign)}."
        )
    if exited:
        workers = ", ".join(sorted({str(t.user_attrs[WORKER_ATTR]) for t in exited}))
        if heartbeat is None:
            fate = (
                "this storage has no heartbeat (a journal file, or an RDBStorage without "
                "heartbeat_interval), so they stay RUNNING for ever"
            )
        else:
            fate = (
                f"this storage's heartbeat (every {heartbeat[0]} s) fails them and retries "
                f"their parameters once their last heartbeat is {heartbeat[1]} s old (the "
                "grace period): nothing to do"
            )
        parts.append(
            f"Started by a DIRSearchCV worker of this machine that has exited ({workers}): "
            f"{_numbers(exited)}; {fate}."
        )
    if forever:
        parts.append(
            "Once no process runs them, mark them failed with "
            "study.tell(number, state=optuna.trial.TrialState.FAIL) for each of "
            f"{_numbers(forever)} (on search.study_ or "
            "optuna.load_study(study_name=..., storage=...)); their parameters are not retried."
        )
    if heartbeat is None:
        parts.append(
            "To have the trials of killed workers failed and retried by themselves, use a "
            f"storage with a heartbeat: a URL (heartbeat every {HEARTBEAT_INTERVAL} s, grace "
            f"period {GRACE_PERIOD} s) or optuna.storages.RDBStorage(url, "
            "heartbeat_interval=..., grace_period=..., heartbeat_stale_trial_callback="
            "optuna.storages.RetryHeartbeatStaleTrialCallback(1))."
        )
    warnings.warn(" ".join(parts), UserWarning, stacklevel=2)


def search_signature(space: Any, scoring: Any, metric: str) -> dict[str, Any]:
    """Return what a study's trials depend on: the space, the scoring, the maximised metric.

    Parameters
    ----------
    space : _Space
        The checked search space (its ``describe()`` texts are stored).
    scoring : str, callable, list, tuple, dict or None
        The search's ``scoring``, described without memory addresses.
    metric : str
        The metric the study maximises (``"score"`` for single-metric scoring).

    Returns
    -------
    signature : dict
        JSON-ready ``{"space": {name: text}, "scoring": text, "objective": metric}``.
    """
    from ._space import stable_repr

    if isinstance(scoring, dict):
        text = stable_repr({key: scoring[key] for key in sorted(scoring)})
    else:
        text = stable_repr(scoring)
    return {"space": space.describe(), "scoring": text, "objective": metric}


def _space_changes(stored: dict[str, str], current: dict[str, str]) -> list[str]:
    lines = [f"removed {name} (was {stored[name]})" for name in stored if name not in current]
    lines += [f"added {name} = {current[name]}" for name in current if name not in stored]
    lines += [
        f"changed {name}: {stored[name]} -> {current[name]}"
        for name in stored
        if name in current and stored[name] != current[name]
    ]
    return lines


def check_same_search(
    study: optuna.Study, signature: dict[str, Any], space: Any, where: str
) -> None:
    """Raise when ``study`` holds the trials of a search with another space or scoring.

    A study's trials can only be ranked and refitted by the search that made them: a stored
    categorical index means another object in another list of choices, a parameter the
    space no longer has would be set from a raw index, and scores of another scorer cannot
    be ranked with this one's. The first search on a study stores its ``signature`` in the
    study's user attributes (:data:`SEARCH_ATTR`); later ones must match it. A study
    without one (made by an older skdir, or by hand) is checked through its trials: the
    distributions Optuna stored for their parameters must be this space's; then it is
    adopted.

    Parameters
    ----------
    study : optuna.Study
        The study about to be run.
    signature : dict
        This search's :func:`search_signature`.
    space : _Space
        This search's space (for the trials' distributions).
    where : str
        The storage, for the message.

    Raises
    ------
    ValueError
        Naming what changed and the two fixes: a new ``study_name``, or this study's
        stored space and scoring.
    """
    stored = study.user_attrs.get(SEARCH_ATTR)
    name = study.study_name
    fix_name = f"a new study_name (e.g. study_name={name + '-2'!r}) to start a new study"
    if stored is None:
        trials = [t for t in counted_trials(study) if RESULT_ATTR in t.user_attrs]
        foreign = [t for t in trials if t.distributions != space.distributions]
        if foreign:
            trial = foreign[0]
            raise ValueError(
                f"Study {name!r} in {where} holds trials of a search over another space "
                f"(trial {trial.number} searched {sorted(trial.distributions)} with "
                f"{trial.distributions}; this search: {space.describe()}); they cannot be "
                f"ranked or refitted with this search's. Give {fix_name}, or search the "
                "stored study's space again."
            )
        study.set_user_attr(SEARCH_ATTR, signature)
        return
    problems, fixes = [], []
    if stored.get("space") != signature["space"]:
        changes = "; ".join(_space_changes(stored.get("space", {}), signature["space"]))
        problems.append(f"another search space ({changes})")
        space_text = ", ".join(f"{key!r}: {text}" for key, text in stored["space"].items())
        fixes.append(f"param_distributions={{{space_text}}}")
    scoring, objective = stored.get("scoring"), stored.get("objective")
    if scoring != signature["scoring"] or objective != signature["objective"]:
        problems.append(
            f"another scoring (stored: scoring={scoring}, maximising {objective!r}; this "
            f"search: scoring={signature['scoring']}, maximising {signature['objective']!r})"
        )
        refit = f" and refit={objective!r}" if objective != "score" else ""
        fixes.append(f"scoring={scoring}{refit}")
    if problems:
        raise ValueError(
            f"Study {name!r} in {where} was made by a search with "
            + " and with ".join(problems)
            + f"; its trials cannot be ranked or refitted by this search. Give {fix_name}, "
            f"or continue the stored study with its own {' and '.join(fixes)}."
        )
