"""The ``scrubber`` command line: parse options, call the engine, pick a formatter, exit."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import stat
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from scrubber.acks import ControlNumbers, default_control_start, write_acknowledgments
from scrubber.beside import Beside
from scrubber.claimstore import MEMORY_CAP
from scrubber.clock import NOW_METAVAR, parse_now
from scrubber.config import Config, ConfigError, find_config, load_config
from scrubber.data import KIND_NAMES as DATA_KINDS
from scrubber.data import DataStore
from scrubber.engine import DEFAULT_GLOBS, DEFAULT_IG_ENGINE, IG_ENGINES, Options, file_size, find_inputs, scrub_paths
from scrubber.export import FORMATS as EXPORT_FORMATS
from scrubber.formatters import FORMATTERS, write_report
from scrubber.formatters.statistics import render_statistics
from scrubber.formatters.text import count
from scrubber.history import SCHEMA_VERSION as HISTORY_SCHEMA_VERSION
from scrubber.history import ClaimHistory, HistoryError, history_key, is_postgres
from scrubber.progress import PassProgress, ScrubProgress, counting
from scrubber.redact import Redactor
from scrubber.report import ERROR, Report
from scrubber.rules import REGISTRY
from scrubber.spool import Spool
from scrubber.textsafe import printable
from scrubber.version import __version__

if TYPE_CHECKING:
    from scrubber.ingest.ledger import Ledger

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_ERROR = 2
ALLOW_UNVALIDATED_HELP = ("Accept, on the rules alone, transaction sets the implementation guide could not judge "
                          "(another guide version, a validator failure); by default they are rejected (999 IK5 R, I6).")


def exit_code(report: Report) -> int:
    """0 nothing rejected, 1 a claim or transaction set rejected, 2 an input not processed."""
    statuses = {f.status for f in report.files}
    if ERROR in statuses:
        return EXIT_ERROR
    return EXIT_OK if statuses <= {"accepted"} else EXIT_REJECTED


def _parse_now(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime:
    if value is None:
        return datetime.now().replace(second=0, microsecond=0)
    try:
        return parse_now(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _db_target(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A database option's value: a SQLite file's path or a postgresql:// URL; another URL is refused in one line
    rather than taken for a file name."""
    if value and _URL.match(value) and not is_postgres(value):
        _fail(f"{param.opts[0]}: {value.split('://', 1)[0]}:// is not a database scrubber can use; give a SQLite"
              " file's path or a postgresql:// URL")
    return value


def _codes(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """--select and --ignore: codes and prefixes, comma-separated or repeated, as ruff takes them."""
    return tuple(code.strip().upper() for value in values for code in value.split(",") if code.strip())


def _load_config(config_path: str | None, profile: str | None = None, *, isolated: bool = False,
                 select: tuple[str, ...] = (), ignore: tuple[str, ...] = (), verbose: bool = False) -> Config:
    """The configuration in force: --config, else the scrubber.toml or pyproject.toml [tool.scrubber] found in
    the working directory or a parent (unless --isolated), else the built-in profiles; narrowed by --select and
    --ignore.  Exit 2 with one line for a bad one."""
    path = config_path
    if path is None and not isolated:
        found = find_config()
        path = None if found is None else str(found)
    try:
        config = load_config(path, profile).narrowed(select, ignore)
    except ConfigError as exc:
        _fail(f"config: {exc}")
    if verbose:
        click.echo(printable(f"scrubber: config: {path or 'none found; the built-in profiles'}"), err=True)
    return config


IG_ENGINE_HELP = ("Implementation-guide validator: 'compiled' (pyx12's map, compiled; same errors, much faster),"
                  " 'pyx12' (the reference engine), 'none' (the rule catalogue only).")
CONFIG_HELP = ("TOML file of payer profiles and rule settings (default: scrubber.toml, or pyproject.toml's"
               " [tool.scrubber], in the working directory or a parent).")
ISOLATED_HELP = "Use the built-in profiles only: look for no scrubber.toml or pyproject.toml."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="scrubber", message="%(prog)s %(version)s")
def cli() -> None:
    """Scrub X12 837P (005010X222A1) claim files for HCPCS L4386 walking boots."""


def _open_history(target: str, config_key: str | None) -> ClaimHistory:
    """The claim history at ``target``, opened and its schema checked; exit 2 with one line when it cannot be."""
    if not is_postgres(target) and not os.path.isfile(target):
        _fail(f"history: {target} is not a claim history (ingest's OUT/ledger.sqlite, or one made by"
              " 'scrubber db upgrade --db PATH')")
    try:
        history = ClaimHistory(target, history_key(config_key), read_only=True)
        history.store  # noqa: B018 - opens it now: a bad URL, a missing driver or a newer schema is one line here
    except HistoryError as exc:
        _fail(f"history: {exc}")
    return history


#: Report formats written with placeholders for PHI unless --no-redact: JUnit goes into CI systems, kept and shown.
REDACTED_BY_DEFAULT = frozenset({"junit"})


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATTERS)), default="text", show_default=True,
              help="Report format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the report to this file (default: standard output); where it went is said on stderr.")
@click.option("--config", "config_path", type=click.Path(), help=CONFIG_HELP)
@click.option("--isolated", is_flag=True, help=ISOLATED_HELP)
@click.option("--select", multiple=True, callback=_codes, metavar="CODES",
              help="Run only these rules: codes or prefixes, comma-separated (WB, CLM01, KX002); they narrow what"
                   " each payer profile runs.")
@click.option("--ignore", multiple=True, callback=_codes, metavar="CODES",
              help="Do not run these rules: codes or prefixes, comma-separated (DOC, CLM009).")
@click.option("--glob", "globs", multiple=True, metavar="PATTERN",
              help="In a directory given as input, read the files matching this pattern, recursively (repeatable;"
                   " default: *.837 *.x12 *.edi *.txt).")
@click.option("-v", "--verbose", is_flag=True, help="Say on stderr which configuration file is in force.")
@click.option("--statistics", is_flag=True,
              help="Instead of the report, count the findings per rule and the 999 errors per kind, most frequent"
                   " first, with the claims and dollars they reject.")
@click.option("--profile", help="Use this payer profile for every claim.")
@click.option("--now", callback=_parse_now, metavar=NOW_METAVAR,
              help="Processing date and time (default: the clock).")
@click.option("--ig-engine", type=click.Choice(IG_ENGINES), default=DEFAULT_IG_ENGINE, show_default=True,
              help=IG_ENGINE_HELP)
@click.option("--ack-dir", type=click.Path(file_okay=False), help="Write <input>.999, .277 (and .ta1) here.")
@click.option("--control-start", type=click.IntRange(1, 999_999_999), metavar="N",
              help="First acknowledgment control number (default: YYDDDHHMM of --now).")
@click.option("--redact/--no-redact", default=None,
              help="Replace patient and subscriber PHI in the report with placeholders (default: on for junit,"
                   " which CI systems keep and show, off for the other formats).")
@click.option("--jobs", type=click.IntRange(1), default=None, show_default="2 on two cores or more for inputs"
              " of 512 KiB and up, else 1; a file under 512 KiB validated in this process",
              help="Worker processes: implementation-guide validation beside the claim walk (pyx12: a file split "
                   "at transaction sets), and the acknowledgments written beside the report.")
@click.option("--allow-unvalidated", is_flag=True, help=ALLOW_UNVALIDATED_HELP)
@click.option("--history", "history_target", metavar="DB", callback=_db_target,
              help="A claim history (ingest's OUT/ledger.sqlite, a SQLite file of 'scrubber db upgrade', or a"
                   " postgresql:// URL) for the history rules CLM012 and WB007; the member IDs are hashed with the"
                   " key of SCRUBBER_HISTORY_KEY or the config's [history] key.")
@click.option("--data", "data_path", metavar="DB",
              help="The data store of CMS tables the CMS rules read ('scrubber data import'; default:"
                   " $XDG_DATA_HOME/scrubber/data.sqlite, else ~/.local/share/scrubber/data.sqlite).")
@click.option("--memory-cap", type=click.IntRange(0), metavar="MIB", default=MEMORY_CAP >> 20, show_default=True,
              help="Judged claims of a file kept in memory, in MiB (about 5.2 KiB a claim); past it they wait in"
                   " an unnamed temporary file and are read back for the report and acknowledgments.")
def check(paths: tuple[str, ...], fmt: str, output: str | None, config_path: str | None, profile: str | None,
          now: datetime, ig_engine: str, ack_dir: str | None, control_start: int | None, redact: bool | None,
          jobs: int | None, allow_unvalidated: bool, history_target: str | None = None, isolated: bool = False,
          select: tuple[str, ...] = (), ignore: tuple[str, ...] = (), globs: tuple[str, ...] = (),
          verbose: bool = False, statistics: bool = False, data_path: str | None = None,
          memory_cap: int = MEMORY_CAP >> 20) -> None:
    """Scrub PATHS (files, directories searched recursively, or - for standard input) and report every claim.

    Exit status: 0 nothing rejected, 1 a claim or transaction set rejected,
    2 an input could not be processed (or a directory held none) or the options are wrong.
    """
    config = _load_config(config_path, profile, isolated=isolated, select=select, ignore=ignore, verbose=verbose)
    if redact is None:
        redact = fmt in REDACTED_BY_DEFAULT
    history = _open_history(history_target, config.history_key) if history_target else None
    if output and any(_same_file(output, p) for p in paths):
        _fail(f"-o {output} is one of the inputs; the report would overwrite it")
    stdin = _spool_stdin() if "-" in paths else None
    inputs, missing = _inputs([stdin.name if p == "-" and stdin else p for p in paths], globs)
    sizes = [file_size(p) for p in inputs]
    parallel_from = 0 if jobs else AUTO_JOBS_FROM  # by default a worker validates the big files only
    jobs = jobs or auto_jobs(sum(sizes))
    with ScrubProgress(sizes) as progress:
        report = scrub_paths(inputs, Options(config=config, today=now.date(), ig_engine=ig_engine, jobs=jobs,
                                             allow_unvalidated=allow_unvalidated, progress=progress,
                                             history=history, generated_at=now, data=DataStore(data_path),
                                             memory_cap=memory_cap << 20, parallel_from=parallel_from))
    if stdin is not None:
        report = replace(report, files=tuple(replace(f, path="stdin", source=stdin.name) if f.path == stdin.name
                                             else f for f in report.files))
    acks: Beside | None = None
    if ack_dir:  # with --jobs 2 and up, written in a second process while this one writes the report
        controls = ControlNumbers(control_start or default_control_start(now))
        acks = Beside(_write_acks, report, ack_dir, controls, now, fork=jobs > 1)
    redactor = report.redactor(redact) if redact and any(f.notices for f in report.files) else Redactor(False)
    for f in report.files:
        if f.error is not None:
            click.echo(printable(f"scrubber: {f.path}: {f.error[1]}"), err=True)
        for notice in f.notices:
            click.echo(printable(f"scrubber: {f.path}: note: {redactor.text(notice)}"), err=True)
    if statistics:
        _write(lambda out: out.write(render_statistics(report, redact)), output, "statistics")
    else:
        _write(lambda out: write_report(fmt, report, out, redact), output, "report")
    if acks is not None and (problem := acks.result()):
        _fail(problem)
    sys.exit(EXIT_ERROR if missing else exit_code(report))


def _inputs(paths: list[str], globs: tuple[str, ...]) -> tuple[list[str], bool]:
    """The files to read, and whether a directory given held none; what was skipped is said on stderr, and no
    file at all is exit 2."""
    patterns = globs or DEFAULT_GLOBS
    found = find_inputs(paths, patterns)
    if found.skipped:
        shown = ", ".join(printable(p) for p in found.skipped[:5]) + (", ..." if len(found.skipped) > 5 else "")
        click.echo(f"scrubber: skipped {count(len(found.skipped), 'file')} matching none of {' '.join(patterns)}"
                   f" (--glob to change): {shown}", err=True)
    for folder in found.empty:
        click.echo(printable(f"scrubber: {folder}: no file matching {' '.join(patterns)}"), err=True)
    if not found.files:
        _fail("no input to read")
    return found.files, bool(found.empty)


#: Inputs from this size up are checked with two processes when the machine has two cores (a 1,000-claim file is
#: about 550 KiB; two processes already gain there); without --jobs, each file under it is validated in this
#: process even then (a worker per file cost 80 ms against 5 for a 5 KiB file: 200 of them took 17 s, not 2.7).
AUTO_JOBS_FROM = 512 << 10


def cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system tells it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def auto_jobs(size: int) -> int:
    """``--jobs`` when not given: 2 (the validator beside the walk, the acknowledgments beside the report) for
    ``size`` bytes of input from :data:`AUTO_JOBS_FROM` up on a machine with two cores or more, else 1."""
    return 2 if cores() >= 2 and size >= AUTO_JOBS_FROM else 1


def _spool_stdin() -> Spool:
    """Standard input in a temporary file, kept until the process ends (:mod:`scrubber.spool`)."""
    try:
        return Spool(sys.stdin.buffer)
    except OSError as exc:
        _fail(f"cannot read standard input: {exc.strerror}")
        raise  # unreachable: _fail exits


def _same_file(output: str, path: str) -> bool:
    """True when ``output`` names the input file ``path`` (through any link or relative path)."""
    try:
        return path != "-" and os.path.samefile(output, path)
    except OSError:
        return False


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["annotated", "html"]), default="annotated", show_default=True,
              help="annotated: every segment with its line and loop, what is wrong marked under it (a terminal);"
                   " html: the HTML report, whose claims open on their segments.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the view to this file (default: standard output); where it went is said on stderr.")
@click.option("--config", "config_path", type=click.Path(), help=CONFIG_HELP)
@click.option("--profile", help="Use this payer profile for every claim.")
@click.option("--now", callback=_parse_now, metavar=NOW_METAVAR,
              help="Processing date and time (default: the clock).")
@click.option("--redact/--no-redact", default=False, help="Placeholders for patient and subscriber PHI.")
@click.pass_context
def show(ctx: click.Context, paths: tuple[str, ...], fmt: str, output: str | None, config_path: str | None,
         profile: str | None, now: datetime, redact: bool) -> None:
    """Show PATHS whole: each segment with its file line and loop name, and the findings and
    implementation-guide errors marked in it, with what to fix.

    Exit status as for check: 0 nothing rejected, 1 a claim or set rejected, 2 an input could not be read.
    """
    ctx.invoke(check, paths=paths, fmt=fmt, output=output, config_path=config_path, profile=profile, now=now,
               redact=redact)


def _write_acks(report: Report, ack_dir: str, controls: ControlNumbers, now: datetime) -> str | None:
    """Write every file's acknowledgments; the message when they cannot be written (the report
    is written all the same, then ``check`` exits 2 with that message)."""
    taken: set[str] = set()
    for f in report.files:
        try:
            write_acknowledgments(f, ack_dir, controls, now, taken)
        except OSError as exc:
            return f"cannot write acknowledgments to {ack_dir}: {exc.strerror}"
    return None


def _write(write: Callable[[TextIO], object], output: str | None, what: str = "report") -> None:
    """Let ``write`` write the report to ``output`` (whole or not at all: a temporary file renamed into
    place, removed when the disk is full), or to stdout; where it went is said on stderr.  An ``output``
    that is not a regular file (``/dev/null``, a FIFO, a terminal) is written to as it is: renaming over it
    would replace a device with a file.  A reader that goes away (``| head``) ends the writing quietly."""
    if not output or _is_special(output):
        try:
            if not output:
                write(sys.stdout)
                sys.stdout.flush()
            else:
                with open(output, "w", encoding="utf-8") as fh:
                    write(fh)
        except BrokenPipeError:
            _pacify_stdout()
            return
        except OSError as exc:
            _fail(f"cannot write {output or 'the ' + what}: {exc.strerror}")
        return  # a device or FIFO named by -o was asked for by name: nothing to say
    partial = os.path.join(os.path.dirname(os.path.abspath(output)), f".{os.path.basename(output)}.tmp")
    try:
        with open(partial, "w", encoding="utf-8") as fh:
            write(fh)
        os.replace(partial, output)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        _fail(f"cannot write {output}: {exc.strerror}")
    click.echo(printable(f"scrubber: {what} written to {output}"), err=True)


def _pacify_stdout() -> None:
    """Standard output's reader has gone: what is left to write, and the flush at exit, go to /dev/null instead
    of raising BrokenPipeError again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    with contextlib.suppress(OSError):
        os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _is_special(path: str) -> bool:
    """True when ``path`` exists and is not a regular file (a device, a FIFO, a socket)."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _parse_defect(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    out = []
    for value in values:
        code, sep, share = value.partition("=")
        try:
            out.append((code.strip().upper(), float(share) if sep else 0.1))
        except ValueError:
            raise click.BadParameter(f"{value!r} is not CODE=SHARE (e.g. WB001=0.1)") from None
    return tuple(out)


@cli.command()
@click.option("--claims", type=click.IntRange(1), default=100, show_default=True, help="Number of claims.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Random seed: the same options give the same bytes.")
@click.option("--payers", default="medicare,commercial,medicaid", show_default=True,
              help="Payer profiles to draw claims from (comma-separated).")
@click.option("--defect", "defects", multiple=True, callback=_parse_defect, metavar="CODE=SHARE",
              help="Inject a defect: a rule code (share of claims) or an IG-… code (share of transaction sets).")
@click.option("--claims-per-st", type=click.IntRange(1), default=100, show_default=True,
              help="Claims in each transaction set (ST/SE); the batch has as many sets as it needs.")
@click.option("--config", "config_path", type=click.Path(), help="Config whose profiles decide the expectations.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="The 837P file to write.")
@click.option("--manifest", "manifest_path", type=click.Path(dir_okay=False),
              help="The manifest to write (default: OUTPUT.json).")
@click.option("--isa-control", type=click.IntRange(1, 999_999_999), metavar="N",
              help="ISA13 and GS06 of the batch (default: from the seed, so batches of different seeds differ).")
@click.option("--list-defects", is_flag=True, help="List the defect codes and exit.")
def generate(claims: int, seed: int, payers: str, defects: tuple[tuple[str, float], ...], claims_per_st: int,
             config_path: str | None, output: str | None, manifest_path: str | None, isa_control: int | None,
             list_defects: bool) -> None:
    """Write a synthetic 837P batch with known defects, and the manifest of what scrubber must answer."""
    import json
    import os

    from scrubber.harness.generate import GenerateOptions, catalogue
    from scrubber.harness.generate import generate as build

    if list_defects:
        for code, kind, describe in catalogue():
            click.echo(f"{code:20} {kind:5} {describe}")
        return
    if not output:
        _fail("generate needs -o FILE")
    assert output is not None
    manifest_file = manifest_path or output + ".json"
    relative_config = os.path.relpath(config_path, os.path.dirname(os.path.abspath(manifest_file))) \
        if config_path else None
    options = GenerateOptions(claims=claims, seed=seed, payers=tuple(p.strip() for p in payers.split(",") if p.strip()),
                              defects=defects, claims_per_st=claims_per_st, config_path=config_path, isa13=isa_control)
    try:
        with counting(2 * claims, "generating") as bar:
            batch = build(options, file_name=os.path.basename(output), progress=bar.update)
    except (ValueError, ConfigError) as exc:
        _fail(str(exc))
    batch.manifest["config"] = relative_config
    try:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            fh.write(batch.text)
        with open(manifest_file, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(batch.manifest, indent=1) + "\n")
    except OSError as exc:
        _fail(f"cannot write: {exc}")
    click.echo(f"wrote {output} ({claims} claims) and {manifest_file}", err=True)


@cli.command()
@click.argument("manifest", type=click.Path())
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "junit"]), default="text", show_default=True,
              help="text: one line per difference; junit: a testsuite per file, a testcase per set and claim.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report here.")
@click.option("--config", "config_path", type=click.Path(), help="Override the manifest's config.")
@click.option("--now", metavar=NOW_METAVAR, help="Override the manifest's processing time.")
@click.option("--ig-engine", type=click.Choice(IG_ENGINES), default=DEFAULT_IG_ENGINE, show_default=True,
              help=IG_ENGINE_HELP)
def expect(manifest: str, paths: tuple[str, ...], fmt: str, output: str | None, config_path: str | None,
           now: str | None, ig_engine: str) -> None:
    """Scrub PATHS and compare every claim with MANIFEST; exit 0 only when everything matches."""
    from scrubber.formatters.expectations import render_expect_junit, render_expect_text
    from scrubber.harness.expect import ManifestError, expect_files, load_manifest

    try:
        when = parse_now(now) if now else None
    except ValueError as exc:
        _fail(f"--now {exc}")
    try:
        loaded = load_manifest(manifest)
        verdicts = expect_files(loaded, list(paths), ig_engine, config_path, when)
    except ManifestError as exc:
        _fail(f"manifest: {exc}")
    except ConfigError as exc:
        _fail(f"config: {exc}")
    except ValueError as exc:
        _fail(f"expect: {exc}")
    text = (render_expect_junit if fmt == "junit" else render_expect_text)(verdicts)
    _write(lambda out: out.write(text), output)
    unreadable = any(v.problems.get("file", [""])[0].startswith("could not be scrubbed") for v in verdicts)
    sys.exit(EXIT_ERROR if unreadable else EXIT_OK if all(v.ok for v in verdicts) else EXIT_REJECTED)


class _IngestGroup(click.Group):
    """``scrubber ingest``: the inbox run (``ingest INBOX --out OUT …``, the command ``run``) unless the first word
    names another of its commands (``requeue``, ``purge``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, args)


@cli.group(cls=_IngestGroup)
def ingest() -> None:
    """Turn every file of INBOX into acknowledgments, a forward file and a report; crash-safe.  Also:
    'scrubber ingest requeue' and 'scrubber ingest purge'."""


@ingest.command("run")
@click.argument("inbox", required=False, type=click.Path(file_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output folder: acks/, forward/, reports/, archive/, failed/, the ledger and ingest.log.")
@click.option("--db", "db_path", metavar="DB", callback=_db_target,
              help="The ledger: a SQLite file (default OUT/ledger.sqlite), or a"
              " postgresql:// URL shared by nodes on several machines (credentials from the URL, PG* variables or"
              " ~/.pgpass; pip install '.[postgres]').")
@click.option("--once", "mode", flag_value="once", default=True, help="Process the inbox, then exit (default).")
@click.option("--watch", "mode", flag_value="watch", help="Keep polling the inbox until SIGTERM.")
@click.option("--interval", type=float, default=2.0, show_default=True, help="Seconds between polls with --watch.")
@click.option("--jobs", type=click.IntRange(1), default=None, show_default="the cores",
              help="Files scrubbed at once, each in a worker process (while the node decides the file before).")
@click.option("--config", "config_path", type=click.Path(), help="TOML payer profiles and rule settings.")
@click.option("--now", callback=_parse_now, metavar=NOW_METAVAR, help="Processing time (default: the clock).")
@click.option("--ig-engine", type=click.Choice(IG_ENGINES), default=DEFAULT_IG_ENGINE, show_default=True,
              help=IG_ENGINE_HELP)
@click.option("--html", is_flag=True, help="Also write an HTML report per file.")
@click.option("--status", "show_status", is_flag=True, help="Print the ledger's totals and last failures, then exit.")
@click.option("--settle", type=click.FloatRange(0), default=5.0, show_default=True, metavar="SECONDS",
              help="Take a file only once its size and modification time have not changed for this long "
                   "(an upload still in progress is left alone).")
@click.option("--allow-unvalidated", is_flag=True,
              help=ALLOW_UNVALIDATED_HELP
              + " Needed with --ig-engine none: nothing unvalidated is forwarded otherwise.")
@click.option("--redact", is_flag=True, help="Placeholders for patient and subscriber PHI in the reports under OUT.")
@click.option("--lease-seconds", type=click.FloatRange(0.5), default=30.0, show_default=True, metavar="SECONDS",
              help="How long a node's hold on a file lasts without a heartbeat (sent every third of it): a killed or"
                   " cut-off node's file is taken over by another node after this long.")
@click.option("--metrics", "metrics_address", metavar="HOST:PORT", help="Serve Prometheus /metrics and /healthz"
              " here (pip install '.[metrics]'); give a loopback address (127.0.0.1:9108) unless a scraper elsewhere"
              " needs it. No metric holds PHI.")
@click.option("--format", "status_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="With --status: text, or one JSON object (nodes, inbox, work/, files, claims, history).")
@click.option("--no-history", is_flag=True, help="Run without the claim history (CLM012, WB007 off); without it, a"
              " history key (SCRUBBER_HISTORY_KEY or [history] key) is required.")
@click.option("--log-stderr", is_flag=True, help="Also write each event to stderr, as the JSON line OUT/ingest.log"
              " gets (for journald and container logs).")
@click.option("--data", "data_path", metavar="DB",
              help="The data store of CMS tables the CMS rules read, as check's --data: a SQLite file or a"
                   " postgresql:// URL (default: $XDG_DATA_HOME/scrubber/data.sqlite).")
@click.option("--file-timeout", type=click.FloatRange(1, 7 * 24 * 3600), default=900.0, show_default=True,
              metavar="SECONDS", help="How long one file's scrub may take: past it the scrub (a worker process) is"
              " stopped and the file sent to failed/ with the reason.")
def ingest_run(inbox: str | None, out_dir: str, db_path: str | None, mode: str, interval: float, jobs: int | None,
           config_path: str | None, now: datetime, ig_engine: str, html: bool, show_status: bool, settle: float,
           allow_unvalidated: bool, redact: bool, lease_seconds: float, log_stderr: bool, no_history: bool,
           file_timeout: float, metrics_address: str | None = None, status_format: str = "text",
           data_path: str | None = None) -> None:
    """Turn every file of INBOX into acknowledgments, a forward file and a report; crash-safe."""
    import signal
    import sqlite3
    from pathlib import Path

    from scrubber.ingest import Ingest, IngestAborted, IngestOptions
    from scrubber.ingest.pipeline import open_ledger

    out = Path(out_dir)
    db: Path | str = db_path if db_path and is_postgres(db_path) else Path(db_path or out / "ledger.sqlite")
    if show_status:
        if isinstance(db, Path) and not db.exists():
            _fail(f"no ledger at {db}")
        try:
            ledger = open_ledger(db)
            status = ledger.status()
            ledger.close()
        except (IngestAborted, sqlite3.Error) as exc:
            _fail(f"cannot read the ledger: {exc}")
        work = out / "work"
        in_work = sum(1 for _ in work.iterdir()) if work.is_dir() else 0
        if status_format == "json":
            click.echo(json.dumps(_status_json(status, in_work, Path(inbox) if inbox else None), indent=2,
                                  sort_keys=True))
            return
        files, claims = status["files"], status["claims"]
        assert isinstance(files, dict) and isinstance(claims, dict)
        click.echo("files:  " + (", ".join(f"{k} {v}" for k, v in sorted(files.items())) or "none"))
        click.echo("claims: " + (", ".join(f"{k} {v}" for k, v in sorted(claims.items())) or "none")
                   + f"; forwarded {status['forwarded']}")
        click.echo(f"pending: {in_work} file(s) in work/, {status['pending']} committed but not archived")
        nodes = status["nodes"]
        assert isinstance(nodes, list)
        click.echo(f"history: {status['history_lines']} lines in force")
        click.echo(f"nodes:  {len(nodes)}")
        for node in nodes:
            click.echo(printable(f"node {node['node']}: host {node['host']}, pid {node['pid']}, current file"
                                 f" {node['current_file'] or '-'}, last heartbeat"
                                 f" {node['heartbeat_seconds_ago']} s ago"
                                 + ("" if node["history"] else ", WITHOUT the claim history (--no-history)")))
        for failure in status["last_failures"]:  # type: ignore[attr-defined]  # status() returns plain JSON-like values
            click.echo(printable(f"{failure['received_at']} {failure['outcome']}: {failure['name']}:"
                                 f" {failure['reason']}"))
        return
    if inbox is None or not Path(inbox).is_dir():
        _fail(f"inbox {inbox!r} is not a folder")
    assert inbox is not None
    if ig_engine == "none" and not allow_unvalidated:
        _fail("--ig-engine none would forward claims no validator checked; add --allow-unvalidated to mean it")
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        _fail(f"config: {exc}")
    fixed_now = now if _now_given() else None
    address = None
    if metrics_address:
        from scrubber.ingest.metrics import parse_address

        try:
            address = parse_address(metrics_address)
        except ValueError as exc:
            _fail(f"--metrics: {exc}")
    try:
        runner = Ingest(Path(inbox), IngestOptions(out=out, db=db, config=config, now=fixed_now, ig_engine=ig_engine,
                                                   html=html, jobs=jobs or cores(), settle=settle,
                                                   allow_unvalidated=allow_unvalidated, redact=redact,
                                                   lease_seconds=lease_seconds, file_timeout=file_timeout,
                                                   log_stderr=log_stderr, no_history=no_history,
                                                   metrics=address,
                                                   data=data_path))
    except IngestAborted as exc:
        _fail(f"ingest cannot start: {exc}")
    signal.signal(signal.SIGTERM, runner.request_stop)
    signal.signal(signal.SIGINT, runner.interrupt)
    signal.signal(signal.SIGHUP, runner.reopen_log)  # logrotate: never the end of a node
    progress = PassProgress()
    try:
        totals = runner.watch(interval, progress) if mode == "watch" else runner.run_once(progress)
    except IngestAborted as exc:  # one line: what stopped it (the ledger and ingest.log hold what was done)
        _fail(f"ingest stopped: {exc}")
    finally:
        progress.close()
        runner.close()
    click.echo(totals.line(), err=True)
    # 130: stopped by Ctrl-C; 1: --once sent a file to failed/ (cron and systemd alert on it); else 0.
    sys.exit(130 if runner.interrupted else 1 if mode == "once" and totals.failed else 0)


def _maintenance_ledger(out_dir: str, db_path: str | None) -> Ledger:
    """The ledger of OUT (or --db) for requeue and purge; exit 2 with one line when there is none."""
    from scrubber.ingest.pipeline import IngestAborted, open_ledger

    db: Path | str = db_path if db_path and is_postgres(db_path) else Path(db_path or Path(out_dir) / "ledger.sqlite")
    if isinstance(db, Path) and not db.exists():
        _fail(f"no ledger at {db}")
    try:
        return open_ledger(db)
    except IngestAborted as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


@ingest.command("requeue")
@click.argument("names", nargs=-1, required=True)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, exists=True),
              help="The output folder of 'scrubber ingest run' (its failed/, archive/ and ledger).")
@click.option("--inbox", "inbox_dir", required=True, type=click.Path(file_okay=False, exists=True),
              help="The inbox to put the files back into.")
@click.option("--db", "db_path", metavar="DB", callback=_db_target,
              help="The ledger (default OUT/ledger.sqlite, or a postgresql:// URL).")
@click.option("--reason", default="", help="Why (kept in the ledger with who and when).")
@click.option("--as-new", is_flag=True, help="Let a file refused as a duplicate interchange through, once.")
def ingest_requeue(names: tuple[str, ...], out_dir: str, inbox_dir: str, db_path: str | None, reason: str,
                   as_new: bool) -> None:
    """Put files (NAMES as the inbox had them) from failed/, or rejected or refused as duplicates, back into the
    inbox under a fresh name; claims already forwarded are rejected as duplicates, never sent twice."""
    from datetime import datetime

    from scrubber.ingest.maintenance import MaintenanceError, requeue

    ledger = _maintenance_ledger(out_dir, db_path)
    try:
        moved = requeue(ledger, Path(out_dir), Path(inbox_dir), list(names), reason, as_new, datetime.now())
    except MaintenanceError as exc:
        _fail(f"requeue: {exc}")
        return
    finally:
        ledger.close()
    for name, new_name in moved:
        click.echo(printable(f"requeued {name} as {new_name}"))


@ingest.command("purge")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, exists=True),
              help="The output folder of 'scrubber ingest run' (its failed/, archive/ and ledger).")
@click.option("--db", "db_path", metavar="DB", callback=_db_target,
              help="The ledger (default OUT/ledger.sqlite, or a postgresql:// URL).")
@click.option("--older-than", "days", required=True, type=click.FloatRange(0), metavar="DAYS",
              help="Purge files done more than this many days ago.")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
def ingest_purge(out_dir: str, db_path: str | None, days: float, dry_run: bool) -> None:
    """Delete the archived inputs and outputs (forward files, reports, acknowledgments, failed files) of files done
    more than DAYS ago: they hold patient data.  Files in flight are never touched; ledger rows stay, marked
    purged."""
    from datetime import datetime

    from scrubber.ingest.maintenance import purge

    ledger = _maintenance_ledger(out_dir, db_path)
    listed: list[str] = []
    try:
        result = purge(ledger, Path(out_dir), days, dry_run, datetime.now(), listed)
    finally:
        ledger.close()
    for path in listed:
        click.echo(printable(("would delete " if dry_run else "deleted ") + path))
    click.echo(f"purge: {result.files} file(s), {result.paths} path(s), {result.bytes:,} bytes"
               + (" (dry run: nothing deleted)" if dry_run else ""), err=True)


def _status_json(status: dict[str, object], in_work: int, inbox: Path | None) -> dict[str, object]:
    """``ingest --status --format json``: the ledger's totals, the nodes, work/ and, when INBOX is given, its files
    waiting and the oldest one's age."""
    import time

    waiting = None
    if inbox is not None and inbox.is_dir():
        times = [entry.stat(follow_symlinks=False).st_mtime for entry in inbox.iterdir()
                 if not entry.name.startswith(".")]
        waiting = {"files": len(times), "oldest_seconds": round(time.time() - min(times), 1) if times else 0.0}
    nodes = status["nodes"]
    assert isinstance(nodes, list)
    return {"files": status["files"], "claims": status["claims"], "forwarded": status["forwarded"],
            "pending": {"work": in_work, "committed_not_archived": status["pending"]},
            "inbox": waiting, "nodes": nodes,
            "history": {"lines": status["history_lines"],
                        "nodes_without": [n["node"] for n in nodes if not n["history"]]},
            "last_failures": status["last_failures"]}


def _now_given() -> bool:
    ctx = click.get_current_context()
    return ctx.get_parameter_source("now") is click.core.ParameterSource.COMMANDLINE


@cli.command()
@click.option("--bind", default="127.0.0.1:8837", show_default=True, metavar="HOST:PORT",
              help="Where to listen (port 0: any free port, said on stderr).  Loopback unless told: another"
                   " address is reachable from other machines, so give --api-keys with it.")
@click.option("--config", "config_path", type=click.Path(), help=CONFIG_HELP)
@click.option("--history", "history_target", metavar="DB", callback=_db_target,
              help="A claim history for CLM012 and WB007, as for check.")
@click.option("--data", "data_path", metavar="DB", help="The data store of CMS tables, as for check.")
@click.option("--max-bytes", type=click.IntRange(1), default=8 << 20, show_default=True, metavar="N",
              help="The largest request body read; a larger one is answered 413.")
@click.option("--workers", type=click.IntRange(1), default=None, show_default="the cores",
              help="Worker processes that run checks.")
@click.option("--max-pending", type=click.IntRange(1), default=32, show_default=True, metavar="N",
              help="Checks running or waiting at most; one more is answered 503 with Retry-After.")
@click.option("--time-limit", type=click.FloatRange(0), default=60.0, show_default=True, metavar="SECONDS",
              help="Seconds one check may take (0: no limit); a longer one is answered 503.")
@click.option("--api-keys", "api_keys_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Ask every /v1 request for a key: FILE holds one 'sha256:<hex>' line a key (--hash-key).")
@click.option("--hash-key", is_flag=True,
              help="Read a key on standard input, print the line --api-keys FILE holds for it, and exit.")
@click.option("--ssl-certfile", type=click.Path(dir_okay=False, exists=True), help="Serve HTTPS with this"
              " certificate (PEM); or leave TLS to a reverse proxy (docs/serve.md).")
@click.option("--ssl-keyfile", type=click.Path(dir_okay=False, exists=True), help="The certificate's key (PEM).")
def serve(bind: str, config_path: str | None, history_target: str | None, data_path: str | None, max_bytes: int,
          workers: int | None, max_pending: int, time_limit: float, api_keys_path: str | None, hash_key: bool,
          ssl_certfile: str | None, ssl_keyfile: str | None) -> None:
    """Answer checks over HTTP: POST /v1/check, GET /v1/rules, /healthz, /metrics, /openapi.json, and an
    upload page at / (docs/serve.md).  Needs the server extra: pip install 'scrubber-837p[server]'."""
    try:
        from scrubber.serve import is_loopback, parse_bind, run
        from scrubber.serve.app import ServerSettings, read_key_file
        from scrubber.serve.app import hash_key as key_line
        from scrubber.serve.work import Settings
    except ImportError as exc:
        _fail(f"serve needs the server extra ({exc.name} is missing): pip install 'scrubber-837p[server]'")
        raise  # unreachable: _fail exits
    if hash_key:
        key = sys.stdin.readline().strip()
        if len(key) < 16:
            _fail("--hash-key: give a key of 16 characters or more on standard input (a random one:"
                  " python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
        click.echo(key_line(key))
        return
    try:
        host, port = parse_bind(bind)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--bind") from None
    config = _load_config(config_path)
    if history_target:
        _open_history(history_target, config.history_key)
    keys: tuple[str, ...] = ()
    if api_keys_path:
        try:
            keys = read_key_file(api_keys_path)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            _fail(f"--api-keys: {getattr(exc, 'strerror', None) or exc}")
    if (ssl_certfile is None) != (ssl_keyfile is None):
        _fail("--ssl-certfile and --ssl-keyfile go together")
    if not is_loopback(host) and not keys:
        click.echo(f"scrubber: serve: {host} is reachable from other machines and no --api-keys is given:"
                   " anyone who reaches it can send claims", err=True)
    settings = ServerSettings(work=Settings(config_path=config.source, history=history_target, data=data_path,
                                            time_limit=time_limit),
                              workers=workers or cores(), max_bytes=max_bytes, max_pending=max_pending,
                              api_keys=keys)
    try:
        run(settings, host, port, ssl_certfile, ssl_keyfile)
    except OSError as exc:
        _fail(f"serve: cannot listen on {bind}: {exc.strerror or exc}")


@cli.group()
def db() -> None:
    """The claim history's database (a SQLite file or a postgresql:// URL)."""


@db.command()
@click.option("--db", "target", required=True, metavar="DB", callback=_db_target,
              help="A SQLite file (made when missing) or a"
              " postgresql:// URL (credentials from the URL, PG* variables or ~/.pgpass).")
def upgrade(target: str) -> None:
    """Create the ledger's and the claim history's tables, or migrate them to this scrubber's schema (a node
    does it too when it starts); a schema newer than this scrubber is refused."""
    from scrubber.ingest import IngestAborted
    from scrubber.ingest.ledger_schema import LEDGER_SCHEMA_VERSION
    from scrubber.ingest.pipeline import open_ledger

    try:
        open_ledger(target if is_postgres(target) else os.path.abspath(target)).close()
    except IngestAborted as exc:
        _fail(f"db: {exc}")
    click.echo(f"ledger at schema version {LEDGER_SCHEMA_VERSION}, claim history at schema version"
               f" {HISTORY_SCHEMA_VERSION}", err=True)


DATA_HELP = ("The data store: a SQLite file (made when missing; default: $XDG_DATA_HOME/scrubber/data.sqlite, else"
             " ~/.local/share/scrubber/data.sqlite), or a postgresql:// URL (the database ingest's nodes share; pip"
             " install '.[postgres]').")


@cli.group()
def data() -> None:
    """CMS public data the DME MAC edits look up (the Order and Referring file, the HCPCS file, the DMEPOS fee
    schedule, the DME MUE table), kept in the data store."""


@data.command("import")
@click.argument("kind", type=click.Choice(DATA_KINDS))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--data", "store_path", metavar="DB", help=DATA_HELP)
@click.option("--effective", metavar="YYYY-MM-DD", help="The date the file is in force from (default: today).")
def data_import(kind: str, file: str, store_path: str | None, effective: str | None) -> None:
    """Import FILE, in the layout CMS publishes, as the new version of table KIND: all of it or, on the first
    row out of the layout, nothing (exit 2, the previous version kept).  The same file again changes nothing."""
    from scrubber.data import DataError, DataStore

    try:
        when = date.fromisoformat(effective) if effective else None
    except ValueError:
        _fail(f"--effective {effective!r} is not YYYY-MM-DD")
    try:
        with DataStore(store_path) as store:
            version, new = store.import_file(kind, file, when)
    except DataError as exc:
        _fail(f"data import {kind}: {exc}; nothing changed")
    said = "imported" if new else "already loaded, unchanged:"
    click.echo(f"{kind} {said} {version.source}: {version.rows:,} rows, version {version.version}, effective"
               f" {version.effective}, SHA-256 {version.sha256[:12]}…", err=True)


@data.command("status")
@click.option("--data", "store_path", metavar="DB", help=DATA_HELP)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: a line per table; json: the versions as a JSON array.")
def data_status(store_path: str | None, fmt: str) -> None:
    """List the tables loaded: source file, SHA-256, effective date, rows, when imported."""
    from scrubber.data import DataError, DataStore, kinds

    try:
        with DataStore(store_path) as store:
            versions = store.versions()
            where = store.shown
    except DataError as exc:
        _fail(f"data status: {exc}")
    if fmt == "json":
        click.echo(json.dumps([v.to_dict() for v in versions], indent=2))
        return
    loaded = {v.kind: v for v in versions}
    click.echo(f"data store: {where}")
    for name, kind in kinds().items():
        v = loaded.get(name)
        click.echo(f"{name:16} " + (f"{v.source}: {v.rows:,} rows, effective {v.effective} ({v.quarter}), imported"
                                    f" {v.imported_at}, SHA-256 {v.sha256}" if v else
                                    f"not loaded ({kind.TITLE}: scrubber data import {name} FILE)"))


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="ndjson", show_default=True,
              help="ndjson: a claim per line; json: an array of claims; csv: a row per service line.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the export to this file (default: standard output); where it went is said on stderr.")
@click.option("--redact", is_flag=True, help="Replace patient and subscriber PHI with placeholders.")
@click.option("--glob", "globs", multiple=True, metavar="PATTERN",
              help="In a directory given as input, read the files matching this pattern, recursively (repeatable;"
                   " default: *.837 *.x12 *.edi *.txt).")
def export(paths: tuple[str, ...], fmt: str, output: str | None, redact: bool, globs: tuple[str, ...] = ()) -> None:
    """Write the claims of PATHS (837P files, directories of them, or - for standard input) as data,
    without validating or judging them.  Columns and fields: docs/export.md.

    Exit status: 0 every input exported, 2 an input could not be read (the others are still exported).
    """
    from scrubber.api import read_claims
    from scrubber.engine import Unsupported, crash_reason, identify
    from scrubber.export import Writer
    from segments import X12InputError

    if output and any(_same_file(output, p) for p in paths):
        _fail(f"-o {output} is one of the inputs; the export would overwrite it")
    stdin = _spool_stdin() if "-" in paths else None
    failed: list[str] = []
    inputs, missing = _inputs([stdin.name if p == "-" and stdin else p for p in paths], globs)

    def write(out: TextIO) -> None:
        writer = Writer(out, fmt, Redactor(redact))
        for path in inputs:
            shown = "stdin" if stdin is not None and path == stdin.name else printable(path)
            try:
                identify(path)
                writer.write(read_claims(path), shown)
            except (X12InputError, Unsupported) as exc:
                failed.append(f"scrubber: {shown}: {exc}")
            except OSError:
                raise  # the output failed (a full disk, a closed pipe): _write says so
            except Exception as exc:  # noqa: BLE001 - a bug on one file is that file's error; the others go on
                failed.append(f"scrubber: {shown}: {crash_reason(exc, 'exported')}")
        writer.close()

    _write(write, output, "export")
    for line in failed:
        click.echo(printable(line), err=True)
    sys.exit(EXIT_ERROR if failed or missing else EXIT_OK)


@cli.command()
@click.argument("code", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="text: the list, or one rule's documentation; json: each rule with how every profile runs it;"
                   " markdown: the whole catalogue with its documentation (docs/rules.md).")
@click.option("--markdown", is_flag=True, help="The same as --format markdown.")
@click.option("--config", "config_path", type=click.Path(),
              help="Show the rules as this configuration runs them, per profile (default: the one found as for"
                   " check).")
@click.option("--isolated", is_flag=True, help=ISOLATED_HELP)
def rules(code: str | None, fmt: str, markdown: bool, config_path: str | None, isolated: bool) -> None:
    """List the rule catalogue (which profiles run each rule), or show one rule's documentation."""
    from scrubber.ruledocs import rule_text, rules_json, rules_list, rules_markdown

    config = _load_config(config_path, isolated=isolated)
    if markdown or fmt == "markdown":
        click.echo(rules_markdown(config), nl=False)
        return
    found = None if code is None else REGISTRY.get(code.upper())
    if code is not None and found is None:
        _fail(f"unknown rule code {code!r}; 'scrubber rules' lists them")
    if fmt == "json":
        data = rules_json(config, None if found is None else [found.code])
        click.echo(json.dumps(data[0] if found is not None else data, indent=2))
    elif found is None:
        click.echo("\n".join(rules_list(config)))
    else:
        click.echo(rule_text(found, config))


def _fail(message: str) -> None:
    click.echo(f"scrubber: {message}", err=True)
    sys.exit(EXIT_ERROR)


def main() -> None:
    # A batch makes hundreds of thousands of short-lived objects and no garbage cycles to speak of:
    # collect rarely, and never walk what was loaded at start (the modules, the compiled tables).
    gc.freeze()
    gc.set_threshold(20_000, 20, 10)
    from scrubber.engine import watch_interrupts

    watch_interrupts()  # a plugin's KeyboardInterrupt is its file's error; a real Ctrl-C still stops the run
    try:
        cli(prog_name="scrubber")
    except Exception as exc:  # the last resort: one line and exit 2, never a traceback (SCRUBBER_DEBUG=1 shows it)
        if os.environ.get("SCRUBBER_DEBUG"):
            raise
        from scrubber.engine import crash_reason

        _fail(crash_reason(exc))
