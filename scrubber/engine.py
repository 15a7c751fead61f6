"""Scrub files: read, validate against the implementation guide, map, run the rules.

One file goes through three steps:

1. :func:`identify` reads the head to learn what the file is (an 837P 5010 or
   something we must refuse with a clear message);
2. :mod:`scrubber.ig` validates it against the implementation guide: the
   compiled engine batch by batch as step 3 asks (on the segments the walk
   reads, in this process; with ``--jobs`` 2 and up, a second read of the file
   in a worker process beside it),
   pyx12 in a first pass (:mod:`scrubber.ig.feed`);
3. a streaming pass walks the envelopes, maps claims, places each
   implementation-guide error on its segment and runs each claim's profile
   rules as soon as the claim is complete.

A transaction set with an implementation-guide or envelope error is rejected
(999 IK5 ``R``); its claims are listed as rejected with no business findings.
So is a set no validator judged (its guide read from GS08 and ST03 is not
X222A1, or the validator failed), unless ``allow_unvalidated`` says otherwise.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import itertools
import os
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol, TypedDict

from scrubber import ig
from scrubber.claims.mapping import ClaimBuilder
from scrubber.claims.model import Claim
from scrubber.claimstore import ClaimStore
from scrubber.config import Config, RuleSetting
from scrubber.data import DataStore
from scrubber.findings import Finding, Severity
from scrubber.ig.errors import IgError
from scrubber.ig.feed import LazyFeed, ListFeed, StreamFeed
from scrubber.report import ClaimResult, FileResult, GroupResult, InterchangeResult, Report, TransactionResult
from scrubber.rules import REGISTRY, Context
from scrubber.rules.base import ClaimHistory, DataTables, Rule, finding_order
from scrubber.textsafe import printable
from segments import EnvelopeError, EnvelopeWalker, Segment, X12InputError, open_x12
from segments.envelope import Interchange, Transaction
from segments.reader import open_regular

#: Implementation-guide errors listed per transaction set (in the report and the 999); the rest are counted.
MAX_IG_ERRORS_PER_SET = 200
IG_ENGINES = ig.ENGINES
DEFAULT_IG_ENGINE = ig.DEFAULT_ENGINE
_OTHER_837 = {
    "005010X223": "an 837I (institutional) file",
    "005010X224": "an 837D (dental) file",
    "004010X098": "a 4010 837P file",
    "004010X096": "a 4010 837I file",
    "004010X097": "a 4010 837D file",
}
_TRANSACTION_NAMES = {"999": "a 999 acknowledgment", "997": "a 997 acknowledgment", "277": "a 277 claim status",
                      "835": "an 835 remittance", "834": "an 834 enrollment", "270": "a 270 eligibility inquiry",
                      "271": "a 271 eligibility response", "276": "a 276 status inquiry"}


class Unsupported(Exception):
    """X12 that is not an 837P 005010X222 file."""


class Progress(Protocol):
    """What the engine tells of its progress (:class:`scrubber.progress.ScrubProgress` draws it)."""

    def claim(self, bytes_read: int) -> None: ...

    def file_done(self, size: int) -> None: ...


@dataclass(frozen=True)
class Options:
    config: Config
    today: date
    ig_engine: str = DEFAULT_IG_ENGINE
    jobs: int = 1
    #: Let a transaction set the implementation guide could not judge (another guide version, a validator
    #: failure) be accepted on the rules alone.  Off: such a set is rejected (999 IK5 R, IK502 I6).
    allow_unvalidated: bool = False
    #: Told of each claim judged and each file done.
    progress: Progress | None = None
    #: The claim history the history rules ask (CLM012, WB007); None: they are silent.
    history: ClaimHistory | None = None
    #: When the report is made (None: the clock); a naive time is local time.
    generated_at: datetime | None = None
    #: The CMS tables the data rules look up (CMS001): the data store at its default place unless told; None: the
    #: data rules are not run (ingest's workers: the node judges them, :func:`judge_late`).
    data: DataTables | None = field(default_factory=DataStore)
    #: Bytes of a file's judged claims kept in memory before the rest go to a temporary file (None: the default).
    memory_cap: int | None = None
    #: A file smaller than this many bytes is validated in this process whatever ``jobs`` says: a worker process
    #: costs more than it saves on it (``check``'s default when ``--jobs`` is not given; 0: ``jobs`` holds for every
    #: file).
    parallel_from: int = 0


def scrub_paths(paths: Iterable[str | os.PathLike[str]], options: Options) -> Report:
    """Scrub every file (a directory stands for the files in it, sorted)."""
    files = []
    for path in expand_paths(paths):
        try:
            files.append(scrub_file(path, options))
        except Exception as exc:  # noqa: BLE001 - a bug on one file is that file's error; the others go on
            shown = printable(str(path))
            files.append(FileResult(path=shown, error=("internal-error", crash_reason(exc))))
        if options.progress is not None:
            options.progress.file_done(files[-1].size or 0)
    return Report(tuple(files), config=options.config.source, config_sha256=options.config.source_sha256,
                  generated_at=options.generated_at or datetime.now(UTC).replace(microsecond=0),
                  processing_date=options.today,
                  data_versions=tuple(options.data.describe()) if options.data is not None else ())


def crash_reason(exc: BaseException, done: str = "scrubbed") -> str:
    """One line naming an unexpected exception and where it was raised — not its message, which may
    quote the file's data (and so PHI).  A rule's exception names the rule, and its plugin when it has one."""
    rule = None
    if isinstance(exc, RuleCrashed):
        rule, exc = REGISTRY.get(exc.code), exc.cause
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    if rule is not None:
        origin = "" if rule.origin == "scrubber" else f" of plugin {rule.origin!r}"
        return (f"internal error: rule {rule.code}{origin} raised {type(exc).__name__}{where}; the file was not"
                f" {done}, please report it")
    return f"internal error ({type(exc).__name__}{where}); the file was not {done}, please report it"


#: Set by :func:`watch_interrupts`' handler when a real SIGINT arrives.
_SIGINT_RECEIVED = False


def watch_interrupts() -> None:
    """Tell a real SIGINT from a ``KeyboardInterrupt`` a plugin raises: the command line's handler notes the
    signal, then raises as Python's own does (see :func:`interrupted`)."""
    import signal

    def on_sigint(signum: int, frame: object) -> None:
        global _SIGINT_RECEIVED
        _SIGINT_RECEIVED = True
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not the main thread: Python's own handler stays
        signal.signal(signal.SIGINT, on_sigint)


class Deadline(BaseException):
    """Raised by a caller's timer (``scrubber serve --time-limit``) to end a scrub: like a real SIGINT, it ends the
    run and is never taken for a rule's or a file's error."""


def interrupted(exc: BaseException) -> bool:
    """True for a ``KeyboardInterrupt`` of a real SIGINT or a :class:`Deadline`, which must end the run; any other
    exception out of a rule (``SystemExit``, a ``KeyboardInterrupt`` raised by code, a ``BaseException`` of its
    own) is the file's error.  Without :func:`watch_interrupts` (the library used on its own) every
    ``KeyboardInterrupt`` is taken as real."""
    import signal

    if isinstance(exc, Deadline):
        return True
    if not isinstance(exc, KeyboardInterrupt):
        return False
    return _SIGINT_RECEIVED or signal.getsignal(signal.SIGINT) is signal.default_int_handler


#: The files a directory given as input is searched for (recursively), unless --glob says otherwise.
DEFAULT_GLOBS = ("*.837", "*.x12", "*.edi", "*.txt")


@dataclass(frozen=True)
class Inputs:
    """What the paths given name: the files to read, the files of their directories left out (not matching the
    globs), and the directories that held no file to read."""

    files: list[str]
    skipped: list[str]
    empty: list[str]


def find_inputs(paths: Iterable[str | os.PathLike[str]], globs: Iterable[str] = DEFAULT_GLOBS) -> Inputs:
    """Every path that is not a directory as it is (named, so read, whatever its name), and in each directory,
    recursively and sorted, the files whose names match one of ``globs``; hidden files and folders (a dot) are
    left out, and symbolic links to folders are not followed."""
    patterns = tuple(globs)
    files: list[str] = []
    skipped: list[str] = []
    empty: list[str] = []
    for p in paths:
        if not Path(p).is_dir():
            files.append(str(p))
            continue
        found = 0
        for folder, subfolders, names in os.walk(p):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
            for name in sorted(names):
                path = os.path.join(folder, name)
                if name.startswith(".") or not os.path.isfile(path):
                    continue
                if any(fnmatch.fnmatch(name, pattern) for pattern in patterns):
                    files.append(path)
                    found += 1
                else:
                    skipped.append(path)
        if not found:
            empty.append(str(p))
    return Inputs(files, skipped, empty)


def expand_paths(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """The files :func:`find_inputs` finds with the default globs."""
    return find_inputs(paths).files


def identify(path: str | os.PathLike[str]) -> str:
    """The implementation guide of the file's first transaction set, e.g. ``005010X222A1``.

    Raises :class:`X12InputError` for input that is not X12 and
    :class:`Unsupported` for X12 that is not an 837P 5010.
    """
    st01 = version = ""
    with open_x12(path) as stream:
        for seg in stream:
            if seg.id == "GS":
                version = seg.get(8)
            elif seg.id == "ST":
                st01, version = seg.get(1), seg.get(3) or version
                break
    if not st01:
        raise Unsupported("holds no transaction set (no ST segment)")
    if st01 != "837":
        raise Unsupported(f"is {_TRANSACTION_NAMES.get(st01, 'a ' + st01 + ' transaction')} ({version}), "
                          "not an 837P claim file")
    for prefix, name in _OTHER_837.items():
        if version.startswith(prefix):
            raise Unsupported(f"is {name} ({version}); scrubber checks 837P {ig.SUPPORTED_VERSION} only")
    if not version.startswith("005010X222"):
        raise Unsupported(f"is an 837 of version {version!r}; scrubber checks 837P {ig.SUPPORTED_VERSION} only")
    return version


def scrub_file(path: str | os.PathLike[str], options: Options) -> FileResult:
    shown = printable(str(path))  # a name with control characters or bytes that are not UTF-8
    if options.history is not None:
        options.history.begin_file()
    if options.data is not None:
        options.data.begin_file()
    source = "" if shown == str(path) else str(path)
    try:
        version = identify(path)
    except X12InputError as exc:
        return FileResult(path=shown, error=(exc.code, exc.message), source=source, **_digest(path))
    except Unsupported as exc:
        return FileResult(path=shown, error=("unsupported", str(exc)), source=source, **_digest(path))
    feed: ListFeed | LazyFeed | StreamFeed = ListFeed([])
    ig_checked = False
    jobs = 1 if options.parallel_from and file_size(path) < options.parallel_from else options.jobs
    notices: list[str] = []
    if options.ig_engine != "none":
        if version != ig.SUPPORTED_VERSION:
            notices.append(f"found {version}: implementation-guide validation supports {ig.SUPPORTED_VERSION}"
                           " only" + ("; the claims were checked against the rule catalogue"
                                      if options.allow_unvalidated else "; its transaction sets are rejected"))
        elif options.ig_engine == "compiled" and jobs > 1:
            feed, ig_checked = StreamFeed(path), True  # validates beside the walk, in a worker process
        elif options.ig_engine == "compiled":
            feed, ig_checked = LazyFeed(), True  # validates as the walk goes, one batch at a time
        else:
            try:
                feed, ig_checked = ListFeed(ig.validate(path, jobs, options.ig_engine)), True
            except ig.IgUnavailable as exc:
                notices.append(f"implementation-guide validation not done: {exc}")
    draft = _FileDraft(notices, ClaimStore(options.memory_cap))
    error = None
    try:
        _walk(path, draft, options, feed, ig_checked)
    except X12InputError as exc:  # e.g. the file changed between the passes
        error = (exc.code, exc.message)
    finally:
        feed.close()
    if feed.not_compiled:  # a group of another guide, an ISA pyx12 reads its own way: only pyx12 can judge the file
        return scrub_file(path, replace(options, jobs=1, ig_engine="pyx12"))
    return FileResult(path=shown, error=error, transactions=tuple(draft.transactions), claims=draft.claims,
                      envelope_errors=tuple(draft.envelope_errors), notices=tuple(draft.notices),
                      interchanges=tuple(draft.interchanges), source=source, sha256=draft.sha256, size=draft.size)


def file_size(path: str | os.PathLike[str]) -> int:
    """A file's size in bytes (0 when it cannot be asked): what ``check``'s progress bar counts, and how a file is
    told from a small one (:attr:`Options.parallel_from`)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


class _Digest(TypedDict, total=False):
    sha256: str
    size: int


def _digest(path: str | os.PathLike[str]) -> _Digest:
    """The SHA-256 and size of a file that was not walked (unreadable as X12), when it can be opened at all."""
    try:
        with open_regular(path) as raw:
            digest, size = hashlib.sha256(), 0
            while chunk := raw.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
            return {"sha256": digest.hexdigest(), "size": size}
    except (X12InputError, OSError):
        return {}


@dataclass
class _FileDraft:
    """What the walk of a file finds, kept until the file's :class:`FileResult` is made."""

    notices: list[str]
    claims: ClaimStore
    transactions: list[TransactionResult] = field(default_factory=list)
    envelope_errors: list[EnvelopeError] = field(default_factory=list)
    interchanges: list[InterchangeResult] = field(default_factory=list)
    sha256: str | None = None
    size: int | None = None


@dataclass
class _OpenSet:
    """A transaction set being read: what its :class:`TransactionResult` is made of once the file is read."""

    envelope: Transaction
    builder: ClaimBuilder
    ig_checked: bool
    ig_errors: list[IgError] = field(default_factory=list)
    ig_errors_omitted: int = 0
    claim_count: int = 0

    def result(self, ack: str) -> TransactionResult:
        b = self.builder
        return TransactionResult(b.isa13, b.gs06, b.st02, self.envelope.version, bht03=b.bht03, ack=ack,
                                 ig_errors=tuple(self.ig_errors), ig_errors_omitted=self.ig_errors_omitted,
                                 envelope_errors=tuple(self.envelope.errors), ig_checked=self.ig_checked,
                                 claim_count=self.claim_count, submitter=b.submitter, receiver=b.receiver)


def _walk(path: str | os.PathLike[str], result: _FileDraft, options: Options,
          feed: ListFeed | LazyFeed | StreamFeed, ig_checked: bool) -> None:
    opened: list[_OpenSet] = []
    earlier: set[tuple[str, str]] = set()
    builder: ClaimBuilder | None = None
    current: _OpenSet | None = None

    contexts: dict[int, list[tuple[RuleSetting, Context]]] = {}
    strict = options.ig_engine != "none" and not options.allow_unvalidated  # every set validated, or rejected

    set_claims: list[tuple[str, str]] = []  # what the open set added to ``earlier``
    qualifiers = ig.QualifierRefiner()

    def judge(claim: Claim | None) -> None:
        if claim is None or current is None:
            return
        current.claim_count += 1
        result.claims.append(judge_claim(claim, options, earlier, contexts))
        if options.progress is not None:
            options.progress.claim(stream.bytes_read)
        key = (claim.billing_npi, claim.claim_id)
        if key not in earlier:
            earlier.add(key)
            set_claims.append(key)

    with open_x12(path) as stream:
        walker = EnvelopeWalker(feed.share(stream))
        for kind, seg in walker:
            if kind == "ISA":
                earlier, contexts = set(), {}
                if not stream.notes.isa_fixed_width and walker.interchange is not None:
                    walker.interchange.errors.append(EnvelopeError(
                        "interchange", "022", "ISA is not the fixed 106-character layout", "ISA", seg.line, seg.index))
            elif kind == "GS":
                assert walker.group is not None
                walker.group.errors.extend(group_version_errors(seg))
            elif kind == "ST":
                assert walker.transaction is not None and walker.group is not None and walker.interchange is not None
                walker.transaction.errors.extend(transaction_version_errors(walker.group.gs, seg, strict))
                builder = ClaimBuilder(walker.interchange.control_number, walker.group.control_number,
                                       walker.transaction.control_number)
                current = _OpenSet(walker.transaction, builder, ig_checked)
                opened.append(current)
                qualifiers = ig.QualifierRefiner()
                set_claims.clear()
            if builder is not None and kind in ("ST", "SEG", "SE"):
                claim = builder.feed(seg)
                if claim is not None:
                    judge(claim)
                if seg.index > feed.quiet_through:
                    for error in feed.upto(seg.index):  # errors of segments outside a set are dropped
                        if error.index == seg.index and current is not None and not ig.is_false_positive(error, seg):
                            refined = qualifiers.place(error, seg, builder.loops.loop)
                            if refined is None:
                                continue
                            if len(current.ig_errors) >= MAX_IG_ERRORS_PER_SET:  # counted, not listed
                                current.ig_errors_omitted += 1
                                continue
                            placed = replace(refined, loop=builder.loops.loop, file_line=seg.line,
                                             claim_id=builder.current_claim_id)
                            current.ig_errors.append(ig.refine_syntax(placed, seg))
                if kind == "SE":
                    assert current is not None and walker.transaction is not None
                    judge(builder.finish())
                    if current.ig_errors or walker.transaction.errors:  # the 999 rejects the set: its claims
                        earlier.difference_update(set_claims)  # never entered processing (CLM006 must not count them)
                    builder, current = None, None
        if builder is not None and current is not None:  # truncated: the set never closed
            judge(builder.finish())
        if stream.notes.truncated_tail:
            sid, length = stream.notes.truncated_tail
            result.notices.append(f"file ends inside a segment: {length} characters of segment {sid} with no"
                                  " terminator (a file cut short or still being written)")
        if stream.notes.replaced_characters:
            result.notices.append("file holds bytes that are not valid text; they were read as U+FFFD")
        result.sha256, result.size = stream.sha256, stream.bytes_read
    feed.finish()
    if feed.failure is not None:  # the validator stopped part way: as if it had not run
        result.notices.insert(0, f"implementation-guide validation not done: {feed.failure}")  # where --jobs 1 has it
        for txn in opened:
            txn.ig_errors, txn.ig_checked = [], False
    if strict:
        for txn in opened:  # never a 999 "accepted" for a set nobody validated
            envelope = txn.envelope
            if not txn.ig_checked and not any(e.code in ("19", "I6") for e in envelope.errors):
                envelope.errors.append(EnvelopeError(
                    "transaction", "I6", f"transaction set {envelope.control_number} was not validated against"
                    f" the implementation guide {ig.SUPPORTED_VERSION}", "ST", envelope.st.line, envelope.st.index))
    _settle(result, opened, walker.interchanges)


def group_version_errors(gs: Segment) -> list[EnvelopeError]:
    """AK905 2 for a GS08 that names no 837P 5010 guide at all (garbage, or another transaction's)."""
    version = gs.get(8)
    if version.startswith("005010X222"):
        return []
    return [EnvelopeError("group", "2", f"GS08 version {version!r} is not an 837P 5010 implementation guide", "GS",
                          gs.line, gs.index)]


def transaction_version_errors(gs: Segment, st: Segment, strict: bool = True) -> list[EnvelopeError]:
    """IK502 19 when ST03 and GS08 name different guides; with ``strict``, I6 when the set's guide is
    not X222A1 (no validator judges it).

    The guide is read from both, so a garbage GS08 behind a good ST03 (or the reverse) cannot pass a
    set that no validator judged.
    """
    gs08, st03 = gs.get(8), st.get(3)
    errors = []
    if st03 and st03 != gs08:
        errors.append(EnvelopeError("transaction", "19", f"ST03 {st03!r} and GS08 {gs08!r} name different"
                                    " implementation guides", "ST", st.line, st.index))
    version = st03 or gs08
    if strict and version != ig.SUPPORTED_VERSION:
        errors.append(EnvelopeError("transaction", "I6", f"implementation guide {version!r} is not supported"
                                    f" (only {ig.SUPPORTED_VERSION} is validated)", "ST", st.line, st.index))
    return errors


def _settle(result: _FileDraft, opened: list[_OpenSet], interchanges: list[Interchange]) -> None:
    """Decide each transaction set's 999 verdict once all trailers are read.

    A set is rejected (IK5 ``R``) for its own IG or envelope errors, and
    also when its group or interchange is broken (the 999's AK9 or the TA1
    then says why).
    """
    by_group: dict[int, list[TransactionResult]] = {}
    for txn in opened:
        envelope = txn.envelope
        broken = envelope.errors or envelope.group.errors or envelope.group.interchange.errors
        made = txn.result("R" if (txn.ig_errors or broken) else "A")
        result.transactions.append(made)
        by_group.setdefault(id(envelope.group), []).append(made)
    for interchange in interchanges:
        result.envelope_errors.extend(interchange.errors)
        for group in interchange.groups:
            result.envelope_errors.extend(group.errors)
        result.interchanges.append(InterchangeResult(interchange.isa, tuple(interchange.errors), tuple(
            GroupResult(group.gs, group.declared_count, tuple(group.errors), tuple(by_group.get(id(group), ())))
            for group in interchange.groups)))
    result.claims.reject_sets({(t.isa13, t.gs06, t.st02) for t in result.transactions if t.ack == "R"})


def judge_claim(claim: Claim, options: Options, earlier: set[tuple[str, str]],
                contexts: dict[int, list[tuple[RuleSetting, Context]]] | None = None) -> ClaimResult:
    """Run the claim's profile rules; findings sorted by place, then catalogue order.

    ``contexts`` keeps each profile's rule contexts for the next claims of the interchange
    (they differ only in the rule's options, and ``earlier`` is read as it grows).
    """
    profile = options.config.profile_for(claim.payer_id, claim.filing_indicator)
    bound = None if contexts is None else contexts.get(id(profile))
    if bound is None:
        bound = [(setting, Context(setting.options, options.today, earlier, options.history, options.data))
                 for setting in profile.rules if runnable(setting.rule, options.history, options.data)]
        if contexts is not None:
            contexts[id(profile)] = bound
    findings = run_rules(claim, bound)
    if len(findings) > 1:
        findings.sort(key=finding_order)
    return ClaimResult(claim, profile.name, tuple(findings))


def runnable(rule: Rule, history: ClaimHistory | None, data: DataTables | None) -> bool:
    """Whether ``rule`` can run: a history rule needs a history, a CMS data rule a data store."""
    return (history is not None or not rule.needs_history) and (data is not None or not rule.needs_data)


def judge_late(claims: Iterable[ClaimResult], config: Config, today: date, history: ClaimHistory | None,
               data: DataTables | None) -> dict[int, tuple[Finding, ...]]:
    """The findings of the rules a worker does not run, by CLM ordinal, for claims judged without a history and
    without a data store: the history rules (CLM012, WB007, a plugin's ``needs_history`` rules) when ``history``
    is given, the CMS data rules (``needs_data``) when ``data`` is.

    The history reads the members of each :data:`MEMBERS_READ_TOGETHER` claims in one query before they are
    judged (one round trip to PostgreSQL, not one a member).

    Ingest judges a file's claims in a worker (beside other files), then asks this in the node under the
    ledger's lock of steps 2-4: the history against what is committed, so the verdict never depends on
    ``--jobs`` or on how many nodes scrub at once; the CMS tables in the node's own connection (a worker forked
    from a node whose threads use SQLite must not open SQLite).  Claims of a rejected transaction set are not
    asked.
    """
    if history is not None:
        history.begin_file()
        if any(setting.rule.needs_history for profile in config.profiles.values() for setting in profile.rules):
            claims = _members_read_ahead(claims, history)
    if data is not None:
        data.begin_file()

    found: dict[int, tuple[Finding, ...]] = {}
    bound_by_profile: dict[str, list[tuple[RuleSetting, Context]]] = {}
    for result in claims:
        if result.transaction_rejected:
            continue
        bound = bound_by_profile.get(result.profile)
        if bound is None:
            profile = config.profiles[result.profile]
            bound = bound_by_profile[result.profile] = [
                (setting, Context(setting.options, today, frozenset(), history, data))
                for setting in profile.rules
                if (setting.rule.needs_history or setting.rule.needs_data) and runnable(setting.rule, history, data)]
        if bound and (findings := run_rules(result.claim, bound)):
            found[result.claim.first_index] = tuple(findings)
    return found


#: Claims whose members the history reads in one query (:func:`judge_late`).
MEMBERS_READ_TOGETHER = 500


def _members_read_ahead(claims: Iterable[ClaimResult], history: ClaimHistory) -> Iterator[ClaimResult]:
    """The claims, the history's lines of each chunk's members read (one query) before the chunk is handed out."""
    left = iter(claims)
    while chunk := list(itertools.islice(left, MEMBERS_READ_TOGETHER)):
        history.prefetch(c.claim.member_identity() for c in chunk if not c.transaction_rejected)
        yield from chunk


class RuleCrashed(Exception):
    """A rule raised (any exception, ``SystemExit`` and other ``BaseException`` too, but a real SIGINT):
    the file's internal error, never the run's end."""

    def __init__(self, code: str, exc: BaseException) -> None:
        super().__init__(code, exc)
        self.code = code
        self.cause = exc


def run_rules(claim: Claim, bound: Iterable[tuple[RuleSetting, Context]]) -> list[Finding]:
    """The findings of the bound rules on one claim, in the order the rules ran."""
    findings: list[Finding] = []
    rule = None
    try:
        for setting, ctx in bound:
            rule = setting.rule
            for hit in rule.check(claim, ctx):
                severity = (Severity.INFO if hit.unchecked else
                            Severity.WARNING if hit.warning_only and setting.severity is Severity.ERROR
                            else setting.severity)
                is_error = severity is Severity.ERROR
                findings.append(Finding(
                    rule=rule.code,
                    name=rule.name,
                    severity=severity,
                    message=hit.message,
                    line_number=hit.line.number if hit.line is not None else None,
                    segment=hit.loc.segment,
                    file_line=hit.loc.line,
                    element=hit.element,
                    stc=(hit.stc or rule.stc).format(entity=hit.entity) if (is_error and (hit.stc or rule.stc))  # type: ignore[union-attr]  # one of them is set
                    else None,
                    stc10=rule.stc10 if is_error else None,
                    unchecked=hit.unchecked,
                ))
    except BaseException as exc:  # noqa: BLE001 - a plugin's SystemExit must not end check or ingest
        if interrupted(exc) or rule is None:
            raise
        raise RuleCrashed(rule.code, exc) from exc
    return findings
