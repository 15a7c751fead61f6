"""``scrubber ingest requeue`` and ``scrubber ingest purge``: an operator's work on OUT, recorded in the ledger.

**Requeue** puts an inbound file back into the inbox under a fresh name: one that went to ``failed/``, one whose
interchange was rejected whole, or one refused as a duplicate (``--as-new`` lets such a duplicate interchange
through once).  Its reason file is removed and the ledger records who, when and why.  Exactly-once forwarding
holds whatever is requeued: a claim already forwarded is rejected as a duplicate (DUP001, CLM012), never sent
twice.

**Purge** deletes, for every file done more than ``--older-than`` days ago, its archived input and its outputs
(forward file, reports, acknowledgments, failed copy and reason): they hold patient data.  A file in flight
(``work/``, ``.staging/``, committed but not archived) is never touched; the ledger's rows stay, marked purged,
and the claim history keeps its rows (member IDs only as keyed hashes).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from scrubber.ingest.ledger import Ledger

#: The outcomes a file may be requeued from: nothing of it was forwarded, or (a duplicate) it is let through once.
REQUEUABLE = ("failed", "rejected", "duplicate")


class MaintenanceError(Exception):
    """What an operator asked cannot be done (one line)."""


def requeue(ledger: Ledger, out: Path, inbox: Path, names: list[str], reason: str, as_new: bool,
            now: datetime) -> list[tuple[str, str]]:
    """Requeue each of ``names`` (inbound names, as the ledger keeps them); (name, new inbox name) of each."""
    done: list[tuple[str, str]] = []
    by_user = _user()
    for name in names:
        found = ledger.last_file_named(name)
        if found is None:
            raise MaintenanceError(f"{name}: no file of that name in the ledger")
        file_id, outcome, state, final_path = found
        if outcome not in REQUEUABLE or state != "done":
            raise MaintenanceError(f"{name}: its outcome is {outcome} ({state}); only failed, rejected or duplicate"
                                   " files that are done can be requeued")
        if outcome == "duplicate" and not as_new:
            raise MaintenanceError(f"{name}: a duplicate interchange is refused again unless requeued --as-new")
        source = out / final_path
        if not source.exists():
            raise MaintenanceError(f"{name}: {final_path} is gone (purged or moved)")
        new_name = f"requeued-{now:%Y%m%d%H%M%S}-{file_id}-{name}"
        target = inbox / new_name
        try:
            os.rename(source, target)  # one file system: INBOX and OUT (as ingest needs)
        except OSError as exc:
            raise MaintenanceError(f"{name}: cannot move {final_path} into {inbox}: {exc.strerror}") from None
        reason_file = out / f"{final_path}.reason.txt"
        if final_path.startswith("failed/") and reason_file.exists():
            reason_file.unlink()
        ledger.record_requeue(file_id, new_name, reason, by_user, now.isoformat(timespec="seconds"), as_new)
        done.append((name, new_name))
    return done


@dataclass
class Purged:
    files: int = 0
    paths: int = 0
    bytes: int = 0


def purge(ledger: Ledger, out: Path, older_than_days: float, dry_run: bool, now: datetime,
          listed: list[str] | None = None) -> Purged:
    """Delete the archived input and outputs of every file done more than ``older_than_days`` ago (all of its
    paths older than that, none in flight); with ``dry_run`` only count them.  ``listed`` gets each path."""
    cutoff = (now - timedelta(days=older_than_days)).timestamp()
    total = Purged()
    for file_id, _name, outputs, final_path, _finished in ledger.done_files():  # never one in flight: not done
        paths = [out / p for p in dict.fromkeys([*outputs, final_path, *_reason(final_path)]) if p]
        present = [p for p in paths if p.exists()]
        if not present or any(p.stat().st_mtime >= cutoff for p in present):
            continue
        total.files += 1
        for path in present:
            total.paths += 1
            total.bytes += path.stat().st_size
            if listed is not None:
                listed.append(str(path.relative_to(out)))
            if not dry_run:
                path.unlink()
        if not dry_run:
            ledger.mark_purged(file_id, now.isoformat(timespec="seconds"))
    return total


def _reason(final_path: str) -> list[str]:
    return [f"{final_path}.reason.txt"] if final_path.startswith("failed/") else []


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"
