"""Studies in a storage: open or create them, re-queue trials whose process died, read trials.

This is the one module that touches Optuna's private API (a study's storage, a trial's id, a
sampler's random state): everything else goes through the functions here, so an Optuna upgrade
is checked in one place (pyproject pins the major version).

Resume protocol (works the same on the journal file and on PostgreSQL). Every running trial
carries ``worker`` (host, pid) and a ``heartbeat`` time refreshed while it trains. A RUNNING
trial is *stale* when its process is gone (same host: the pid no longer exists), its heartbeat
is older than ``STALE_AFTER_S`` (any host), or it never got a worker (``UNCLAIMED_STALE_S``).
A stale trial is set back to WAITING in place — same number, same parameters, same grid
cell — and the next ``study.ask()`` of any
process pops and re-runs it. Re-queueing never creates a trial, so a grid cell can be neither
lost nor duplicated, and trial numbers stay 0..n_trials-1.

Diverged and failed trials are told COMPLETE with the objective's worst value (0 accuracy,
+inf loss) and ``status``/``reason`` user attributes: TPE and GP then learn that region is bad
(they ignore FAIL trials). Optuna's FAIL state is used only for ``surplus`` trials, which a race
between processes created beyond n_trials and which never ran.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import re
import socket
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import sqlalchemy.exc
from optuna.samplers import BaseSampler
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, Trial, TrialState

from tui_lab.config import ParamSpace
from tui_lab.errors import ConfigError
from tui_lab.events import TrialRecord
from tui_lab.results.exports import pid_alive
from tui_lab.search.space import decode

HEARTBEAT_S = 15.0
STALE_AFTER_S = 120.0
UNCLAIMED_STALE_S = 30.0  # RUNNING but no worker yet: its process died right after ask()
JOURNAL_NAME = "study.journal"
MIN_TRIALS_FOR_IMPORTANCE = 4
WORST_VALUE = {"maximize": 0.0, "minimize": math.inf}
FINGERPRINT_ATTR = "tui_lab_fingerprint"
CREATE_ATTEMPTS = 5


def open_storage(url: str | None, run_dir: Path) -> BaseStorage:
    """``None``: the journal file in the run directory; else an SQLAlchemy database URL
    (``postgresql://user@host/db``, ``sqlite:///path``) or a ``.journal`` file path."""
    if url is None or url.endswith(".journal"):
        return _open_journal(run_dir / JOURNAL_NAME if url is None else Path(url).expanduser())
    attempt = 1
    while True:
        try:
            return RDBStorage(_with_installed_driver(url), engine_kwargs={"pool_pre_ping": True})
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.OperationalError) as exc:
            # Two processes creating the same new database: one of them loses the race to
            # create a table or stamp its version; the database is fine, so try again.
            raced = isinstance(exc, sqlalchemy.exc.IntegrityError) or "already exists" in str(exc)
            if not raced or attempt == CREATE_ATTEMPTS:
                raise _cannot_open(url, exc) from None
            time.sleep(0.1 * attempt)
            attempt += 1
        except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises many kinds; all mean "cannot use it"
            raise _cannot_open(url, exc) from None


def _cannot_open(url: str, exc: Exception) -> ConfigError:
    return ConfigError(
        f"--storage {masked(url)}: cannot open this database ({type(exc).__name__}: "
        f"{str(exc).splitlines()[0][:300]}). Check the URL (e.g. postgresql://user:pw@host:5432/"
        "db), that the server runs and that the database exists."
    )


def _check_journal_lines(path: Path) -> None:
    """Every complete line of a journal is one JSON object (Optuna reads a broken line only
    once another follows it, in the middle of the search; an unfinished last line is a write
    in progress and allowed)."""
    if not path.exists():
        return
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, 1):
            if line.endswith(b"\n") and not isinstance(json.loads(line), dict):
                raise ValueError(f"line {number} is not a journal entry")


def _open_journal(path: Path) -> BaseStorage:
    """A journal file that exists and holds a journal, or that can be created."""
    if path.is_dir() or not path.parent.is_dir():
        what = (
            "is a directory"
            if path.is_dir()
            else f"would be in {path.parent}, which "
            + ("is not a folder" if path.parent.exists() else "does not exist")
        )
        raise ConfigError(
            f"--storage {path}: the journal file {what}. Name a .journal file in an existing "
            "folder (it is created on first use)."
        )
    try:
        _check_journal_lines(path)
        return JournalStorage(JournalFileBackend(str(path)))
    except Exception as exc:  # noqa: BLE001 - an unreadable or foreign file, whatever the kind
        raise ConfigError(
            f"--storage {path}: cannot use this journal file ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200] if str(exc) else 'no detail'}). It must be a "
            "writable Optuna journal that tui-lab or Optuna wrote; name a new .journal file to "
            "start a new study."
        ) from None


def _with_installed_driver(url: str) -> str:
    """SQLAlchemy 2.1 reads ``postgresql://`` as psycopg 3; tui-lab ships psycopg2-binary."""
    scheme, _, rest = url.partition("://")
    if scheme in ("postgresql", "postgres") and importlib.util.find_spec("psycopg") is None:
        return f"postgresql+psycopg2://{rest}"
    return url


def masked(url: str | None) -> str:
    """A storage URL safe to print or save: the password replaced by ***."""
    if url is None:
        return JOURNAL_NAME
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def fingerprint(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[
        :16
    ]


def open_study(
    storage: BaseStorage,
    name: str,
    direction: str,
    sampler,
    pruner,
    print_: str,
    attrs: dict[str, Any],
) -> optuna.Study:
    """Create the study or join the existing one of the same search (``print_`` = fingerprint);
    a study of that name made by a different search is an error, never silently mixed."""
    study = optuna.create_study(
        storage=storage,
        study_name=name,
        direction=direction,
        sampler=sampler,
        pruner=pruner,
        load_if_exists=True,
    )
    existing = study.user_attrs.get(FINGERPRINT_ATTR)
    if existing is None:
        for key, value in {**attrs, FINGERPRINT_ATTR: print_}.items():
            study.set_user_attr(key, value)
    elif existing != print_:
        raise ConfigError(
            f"Study {name!r} already exists in this storage and was made by a different search "
            "(another space, method, budget or base setting). Repeat the original command to "
            "resume it, or choose a new --study name or --out directory."
        )
    return study


def load_study(storage: BaseStorage, name: str) -> optuna.Study:
    """An existing study, to follow or report (the TUI attaches this way)."""
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        names = ", ".join(s.study_name for s in optuna.get_all_study_summaries(storage)) or "none"
        raise ConfigError(f"No study {name!r} in this storage (studies there: {names}).") from None


# ------------------------------------------------------------------------------ liveness


def last_sign_of_life(trial: FrozenTrial) -> float:
    beat = trial.user_attrs.get("heartbeat")
    if beat is not None:
        return float(beat)
    start = trial.datetime_start
    return start.timestamp() if start is not None else time.time()


def is_stale(trial: FrozenTrial, now: float | None = None) -> bool:
    if trial.state != TrialState.RUNNING:
        return False
    now = time.time() if now is None else now
    worker = trial.user_attrs.get("worker")
    if worker is None:
        return now - last_sign_of_life(trial) > UNCLAIMED_STALE_S
    if worker.get("host") == socket.gethostname() and not pid_alive(int(worker["pid"])):
        return True
    return now - last_sign_of_life(trial) > STALE_AFTER_S


def requeue_stale(study: optuna.Study) -> list[int]:
    """Set stale RUNNING trials back to WAITING (see the module docstring); returns numbers."""
    requeued = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if is_stale(t) and is_stale(stored_trial(study, t)):  # re-read: it may just have moved
            requeue(study, t)
            requeued.append(t.number)
    return requeued


def mark_alive(study: optuna.Study, trial: Trial | FrozenTrial) -> None:
    set_trial_attrs(study, trial, heartbeat=time.time())


# ------------------------------------------------------------------------------ private API


def set_trial_attrs(study: optuna.Study, trial: Trial | FrozenTrial, **attrs: Any) -> None:
    """User attributes of any trial of the study, running or not, by its storage id."""
    for key, value in attrs.items():
        study._storage.set_trial_user_attr(trial._trial_id, key, value)


def requeue(study: optuna.Study, trial: Trial | FrozenTrial) -> None:
    """Set a trial back to WAITING in place: the next ``study.ask()`` of any process runs it."""
    study._storage.set_trial_state_values(trial._trial_id, TrialState.WAITING)


def stored_trial(study: optuna.Study, trial: Trial | FrozenTrial) -> FrozenTrial:
    """The trial as the storage holds it now (another process may have moved it)."""
    return study._storage.get_trial(trial._trial_id)


def reseed_sampler(sampler: BaseSampler, seed: int, number: int) -> None:
    """Trial n draws from its own seed (seed, n): the same parameters whichever process runs
    it and however often the search is resumed (a restarted seeded sampler would otherwise
    replay the parameters of the trials already done)."""
    state = int(np.random.SeedSequence([seed, number]).generate_state(1)[0])
    sampler._rng.rng.seed(state)  # type: ignore[attr-defined]
    inner = getattr(sampler, "_random_sampler", None)
    if inner is not None:
        inner._rng.rng.seed(state)


def worker_identity() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


# ------------------------------------------------------------------------------ records


def record(
    study_name: str, trial: FrozenTrial, space: dict[str, ParamSpace] | None = None
) -> TrialRecord:
    """``space`` decodes stored parameters into config values (lists instead of JSON text)."""
    attrs = trial.user_attrs
    params = {
        k: decode(space[k], v) if space and k in space else v for k, v in trial.params.items()
    }
    state = trial.state.name
    default_status = {
        "RUNNING": "running",
        "WAITING": "waiting",
        "PRUNED": "pruned",
        "COMPLETE": "completed",
        "FAIL": "failed",
    }[state]
    status = attrs.get("status", default_status) if trial.state.is_finished() else default_status
    if trial.state == TrialState.WAITING and attrs.get("attempt"):
        status = "interrupted"  # ran before, its process died: waits to be re-run
    return TrialRecord(
        study=study_name,
        number=trial.number,
        state=state,
        status=status,
        value=trial.value if trial.state in (TrialState.COMPLETE, TrialState.PRUNED) else None,
        params=params,
        epochs=int(attrs.get("epochs", 0)),
        seconds=float(attrs.get("seconds", 0.0)),
        pruned_at=attrs.get("pruned_at"),
        reason=str(attrs.get("reason", "")),
        history=tuple(attrs.get("history", ())),
        attempts=int(attrs.get("attempt", 0) or 1),
    )


def trial_records(
    study: optuna.Study, space: dict[str, ParamSpace] | None = None
) -> list[TrialRecord]:
    """Every trial of the study except surplus ones (created by a race, never run)."""
    trials = study.get_trials(deepcopy=False)
    return [
        record(study.study_name, t, space)
        for t in trials
        if t.user_attrs.get("status") != "surplus"
    ]


def best_record(records: list[TrialRecord], direction: str) -> TrialRecord | None:
    """The best *completed* trial (diverged and failed ones carry a worst value, not a score)."""
    done = [r for r in records if r.status == "completed" and r.value is not None]
    if not done:
        return None
    sign = -1.0 if direction == "maximize" else 1.0
    return min(done, key=lambda r: (sign * r.value, r.number))  # type: ignore[operator]


def param_importance(study: optuna.Study) -> tuple[dict[str, float] | None, str]:
    """Optuna's importance evaluator (PED-ANOVA) over the finished trials, or why there is none."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    varying = {
        k
        for t in complete
        for k in t.params
        if len({json.dumps(u.params.get(k)) for u in complete}) > 1
    }
    if len(complete) < MIN_TRIALS_FOR_IMPORTANCE or not varying:
        return None, (
            f"needs {MIN_TRIALS_FOR_IMPORTANCE} completed trials with varying "
            f"parameters ({len(complete)} completed)"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = optuna.importance.get_param_importances(study, params=sorted(varying))
    except (ValueError, RuntimeError) as exc:
        return None, f"Optuna could not compute it: {exc}"
    return {k: float(v) for k, v in values.items()}, ""
