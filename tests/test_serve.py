"""``scrubber serve`` as a client meets it: the real server started on a loopback port in its own process, its
answers compared with ``scrubber check`` on the fixtures, the public corpus and fuzzed files, and every response
validated against the checked-in ``openapi.json``."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import html
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from helpers import CORPUS, NOW, Server, run_cli, running_server
from scrubber.config import load_config
from scrubber.serve import DEFAULT_BIND, is_loopback, parse_bind
from scrubber.textsafe import printable
from test_fuzz import mutated

pytest.importorskip("uvicorn", reason="scrubber serve's extra (starlette, uvicorn) is not installed")
from scrubber.serve import app  # noqa: E402 - after the skip: it imports starlette

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = [ROOT / "fixtures" / "demo.837", *sorted((ROOT / "fixtures" / "golden").glob("*.837")),
            ROOT / "fixtures" / "vendor" / "outbound.837"]
OPENAPI = json.loads((ROOT / "scrubber" / "serve" / "openapi.json").read_text())
EDI = {"Content-Type": "application/edi-x12"}
KEY = "synthetic-test-key-0123456789"
REGISTRY = Registry().with_resource("urn:openapi", DRAFT202012.create_resource(OPENAPI)).crawl()
PHI = ("RIVERA", "OKAFOR", "1AA0AA0AA01")  # in demo.837's subscriber loops


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server("--workers", "2", cwd=tmp_path_factory.mktemp("serve")) as started:
        yield started


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with keys, one check at a time, a 1 MB body limit and a 0.5 s time limit."""
    folder = tmp_path_factory.mktemp("guarded")
    (folder / "keys").write_text(f"# the test's key\n{app.hash_key(KEY)}\n")
    with running_server("--workers", "1", "--api-keys", "keys", "--max-pending", "1", "--max-bytes", "1000000",
                        "--time-limit", "0.5", cwd=folder) as started:
        yield started


def _validated(method: str, path: str, status: int, headers: dict[str, str], body: bytes) -> Any:
    """The response checked against openapi.json: its status and media type are declared for the route, and a JSON
    body matches the declared schema.  The JSON, loaded (None for other media types)."""
    route = "/v1/rules/{code}" if path.startswith("/v1/rules/") else path.split("?", 1)[0]
    operation = OPENAPI["paths"][route][method.lower()]
    assert str(status) in operation["responses"], (route, status)
    media = headers["content-type"].split(";", 1)[0]
    response = operation["responses"][str(status)]
    content = response["content"]
    assert media in content, (route, status, media)
    if media != "application/json":
        return None
    data = json.loads(body)
    pointer = "/".join(p.replace("~", "~0").replace("/", "~1") for p in
                       ("paths", route, method.lower(), "responses", str(status), "content", media, "schema"))
    jsonschema.Draft202012Validator({"$ref": f"urn:openapi#/{pointer}"}, registry=REGISTRY).validate(data)
    return data


def call(server: Server, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any, bytes]:
    """One request; (status, headers, JSON or None, raw body), the response validated against openapi.json."""
    status, got, raw = server.request(method, path, body, headers)
    return status, got, _validated(method, path, status, got, raw), raw


def _check_cli(path: Path, tmp: Path) -> tuple[int, dict[str, Any], dict[str, str]]:
    """``scrubber check --format json`` with acknowledgments: exit code, report, acknowledgment texts by suffix."""
    acks = tmp / f"acks-{path.name}"
    code, out, _ = run_cli("check", "--format", "json", "--now", NOW, "--control-start", "7", "--ack-dir", str(acks),
                           str(path))
    written = {p.suffix[1:]: p.read_text() for p in acks.iterdir()} if acks.is_dir() else {}
    return code, json.loads(out), written


def _without_paths(report: dict[str, Any]) -> dict[str, Any]:
    """A report with the input's path left out (the server shows the name it is given)."""
    report = dict(report)
    report["inputs"] = [{**i, "path": None} for i in report["inputs"]]
    report["files"] = [{**f, "path": None} for f in report["files"]]
    return report


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_check_answers_what_scrubber_check_writes(server: Server, path: Path, tmp_path: Path) -> None:
    code, expected, acks = _check_cli(path, tmp_path)
    status, headers, report, _ = call(server, "POST", f"/v1/check?now={NOW}&control_start=7&acks=999,277ca,ta1"
                                      f"&name={path.name}", path.read_bytes(), EDI)
    assert status == 200 and code in (0, 1)
    got = report.pop("acknowledgments")
    assert _without_paths(report) == _without_paths(expected)
    assert report["files"][0]["path"] == report["inputs"][0]["path"] == path.name  # the name given is shown
    assert got == {"999": acks.get("999"), "277ca": acks.get("277"), "ta1": acks.get("ta1")}
    assert headers["x-scrubber-status"] == expected["files"][0]["status"]


def test_html_and_csv_reports_are_checks_formatters(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    demo = FIXTURES[0]
    monkeypatch.chdir(demo.parent)  # check is given the name the server is given
    for fmt, media in (("html", "text/html"), ("csv", "text/csv")):
        status, headers, _, body = call(server, "POST", f"/v1/check?now={NOW}&format={fmt}&name=demo.837",
                                        demo.read_bytes(), {"Content-Type": "text/plain"})
        code, out, _ = run_cli("check", "--format", fmt, "--now", NOW, demo.name)
        assert status == 200 and headers["content-type"].startswith(media)
        assert body.decode().replace("\r\n", "\n") == out, fmt  # CliRunner's stdout reads CSV's \r\n as \n
        if fmt == "html":
            html.fromstring(body)


def test_redact_really_redacts(server: Server) -> None:
    status, _, report, raw = call(server, "POST", f"/v1/check?now={NOW}&redact=true", FIXTURES[0].read_bytes(),
                                  {"Content-Type": "application/octet-stream"})
    assert status == 200 and report["files"][0]["claims"]
    assert not any(value in raw.decode() for value in PHI)
    _, _, plain, raw = call(server, "POST", f"/v1/check?now={NOW}", FIXTURES[0].read_bytes(), EDI)
    assert any(value in raw.decode() for value in PHI), "the fixture's PHI values are not where the test looks"


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"public corpus not found at {CORPUS}")
def test_the_public_corpus_gets_checks_answers(server: Server) -> None:
    """Every corpus file (837P or not, readable or not): the report check writes, or a 400 with check's reason."""
    paths = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "SOURCES.md")
    code, out, _ = run_cli("check", "--format", "json", "--now", NOW, "--glob", "*", *map(str, paths))
    expected = {f["path"]: f for f in json.loads(out)["files"]}

    def post(path: Path) -> tuple[Path, int, Any]:
        status, _, data, _ = call(server, "POST", f"/v1/check?now={NOW}&name={quote(path.name)}", path.read_bytes(),
                                  EDI)
        return path, status, data

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(post, paths))
    assert len(answers) == len(paths) > 50
    for path, status, data in answers:
        want = expected[str(path)]
        if want["error"] is not None:
            assert status == 400 and data == {"error": want["error"]["code"], "message": want["error"]["message"]}
        else:
            assert status == 200, (path, data)
            assert {**data["files"][0], "path": None} == {**want, "path": None}, path


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=mutated())
def test_fuzzed_files_get_the_engines_answer_and_never_a_500(server: Server, data: bytes) -> None:
    import scrubber
    from scrubber.formatters.json_report import render_json

    status, _, answer, _ = call(server, "POST", f"/v1/check?now={NOW}", data, EDI)
    report = scrubber.scrub(data, now=NOW)
    f = report.files[0]
    if f.error is not None:
        assert status == 400 and answer == {"error": f.error[0], "message": f.error[1]}
    else:
        assert status == 200
        assert _without_paths(answer) == _without_paths(json.loads(render_json(report)))


def test_input_that_is_not_an_837p_is_400_with_checks_reason(server: Server, tmp_path: Path) -> None:
    cases = {"empty": b"", "binary": bytes(range(256)) * 4, "bom": "\ufeff".encode() + b"not X12",
             "an 835": FIXTURES[0].read_bytes().replace(b"ST*837*", b"ST*835*").replace(b"005010X222A1",
                                                                                         b"005010X221A1")}
    for name, body in cases.items():
        (tmp_path / name).write_bytes(body)
        code, _, err = run_cli("check", "--now", NOW, str(tmp_path / name))
        status, _, answer, _ = call(server, "POST", "/v1/check", body, EDI)
        assert code == 2 and status == 400, name
        assert err.strip() == f"scrubber: {tmp_path / name}: {answer['message']}", name


@pytest.mark.parametrize(("query", "says"), [
    ("format=xml", "format must be one of json, html, csv"),
    ("acks=997", "acks takes 999, 277ca, ta1"),
    ("acks=999&format=html", "acks come in the JSON report"),
    ("now=yesterday", "now: 'yesterday' is not"),
    ("profile=nobody", "profile 'nobody' is not a profile"),
    ("control_start=0", "control_start must be"),
    ("redact=maybe", "redact must be true or false"),
    ("ack=999", "unknown query parameter 'ack'"),
])
def test_a_bad_query_is_400_before_any_check(server: Server, query: str, says: str) -> None:
    status, _, answer, _ = call(server, "POST", f"/v1/check?{query}", FIXTURES[0].read_bytes(), EDI)
    assert status == 400 and answer["error"] == "bad-parameter" and answer["message"].startswith(says), answer


def test_a_body_of_another_media_type_is_415(server: Server) -> None:
    for headers in ({"Content-Type": "application/json"}, {}):
        status, _, answer, _ = call(server, "POST", "/v1/check", FIXTURES[0].read_bytes(), headers)
        assert status == 415 and answer["error"] == "unsupported-media-type"


def test_rules_are_the_catalogue_scrubber_rules_lists(server: Server) -> None:
    status, _, rules, _ = call(server, "GET", "/v1/rules")
    assert status == 200 and rules == json.loads(run_cli("rules", "--format", "json")[1])
    status, _, rule, _ = call(server, "GET", "/v1/rules/wb001")
    assert status == 200 and rule == json.loads(run_cli("rules", "WB001", "--format", "json")[1])
    status, _, answer, _ = call(server, "GET", "/v1/rules/XX999")
    assert status == 404 and answer["error"] == "unknown-rule"


def test_health_metrics_and_the_openapi_document(server: Server) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    status, _, health, _ = call(server, "GET", "/healthz")
    assert status == 200 and health["status"] == "ok" and health["workers"] == 2
    call(server, "POST", f"/v1/check?now={NOW}", FIXTURES[0].read_bytes(), EDI)
    status, _, _, raw = call(server, "GET", "/metrics")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(raw.decode()) for s in family.samples}
    assert samples[("scrubber_serve_requests_total", (("route", "/v1/check"), ("status", "200")))] >= 1
    assert samples[("scrubber_serve_claims_total", (("file_status", "partial"),))] >= 5
    assert samples[("scrubber_serve_workers", ())] == 2
    status, _, document, _ = call(server, "GET", "/openapi.json")
    assert status == 200 and document == OPENAPI


def test_the_checked_in_openapi_document_is_up_to_date() -> None:
    from scrubber.serve.openapi import text

    assert (ROOT / "scrubber" / "serve" / "openapi.json").read_text() == text(), \
        "run: python -m scrubber.serve.openapi > scrubber/serve/openapi.json"


def test_unknown_paths_and_methods_answer_json(server: Server) -> None:
    status, headers, raw = server.request("GET", "/v1/nothing")
    assert status == 404 and json.loads(raw)["error"] == "not-found"
    status, headers, raw = server.request("GET", "/v1/check")
    assert status == 405 and json.loads(raw)["error"] == "method-not-allowed"


def test_the_log_has_a_line_a_request_and_no_phi(server: Server) -> None:
    call(server, "POST", f"/v1/check?now={NOW}&name=SMITH-JOHN.837", FIXTURES[0].read_bytes(), EDI)
    expected = {"path": "/v1/check", "status": 200, "bytes_in": FIXTURES[0].stat().st_size}

    def logged() -> list[dict[str, Any]]:
        return [json.loads(line) for line in list(server.log) if line.startswith("{")]

    deadline = time.monotonic() + 10  # the log is written a few lines at a time, a tenth of a second apart
    while time.monotonic() < deadline and expected not in [{k: line[k] for k in expected} for line in logged()]:
        time.sleep(0.05)
    lines = logged()
    assert lines and all(set(line) == {"time", "method", "path", "status", "bytes_in", "bytes_out", "seconds"}
                         for line in lines)
    assert expected in [{k: line[k] for k in expected} for line in lines]
    assert not any(value in "\n".join(server.log) for value in PHI)


def test_keys_are_asked_for_and_compared_by_hash(guarded: Server) -> None:
    body = FIXTURES[0].read_bytes()
    for headers in ({}, {"Authorization": "Bearer wrong-key-0123456789"}, {"X-API-Key": KEY[:-1]}):
        status, got, answer, _ = call(guarded, "POST", "/v1/check", body, {**EDI, **headers})
        assert status == 401 and answer["error"] == "unauthorized" and got["www-authenticate"] == "Bearer"
    assert call(guarded, "GET", "/v1/rules")[0] == 401
    for headers in ({"Authorization": f"Bearer {KEY}"}, {"X-API-Key": KEY}):
        assert call(guarded, "POST", f"/v1/check?now={NOW}", body, {**EDI, **headers})[0] == 200
    assert call(guarded, "GET", "/healthz")[0] == 200  # open, for the load balancer


def test_key_files_and_hashes(tmp_path: Path) -> None:
    line = app.hash_key(KEY)
    assert re.fullmatch("sha256:[0-9a-f]{64}", line) and KEY not in line
    (tmp_path / "keys").write_text(f"{line}  # the billing system\n\n")
    hashes = app.read_key_file(str(tmp_path / "keys"))
    assert app.key_matches(KEY, hashes) and not app.key_matches(KEY + "x", hashes)
    (tmp_path / "bad").write_text(KEY + "\n")
    with pytest.raises(ValueError, match="bad:1: not a key hash"):
        app.read_key_file(str(tmp_path / "bad"))
    code, out, _ = run_cli("serve", "--hash-key", input=KEY + "\n")
    assert code == 0 and out.strip() == line


def test_a_body_over_the_limit_is_413(guarded: Server) -> None:
    big = FIXTURES[0].read_bytes() * 200  # 1.1 MB
    auth = {**EDI, "X-API-Key": KEY}
    status, _, answer, _ = call(guarded, "POST", "/v1/check", big, auth)  # said by Content-Length
    assert status == 413 and answer["error"] == "too-large"
    host, port = guarded.url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=60)  # sent in chunks: counted as it comes
    connection.request("POST", "/v1/check", body=iter([big[i:i + 65536] for i in range(0, len(big), 65536)]),
                       headers=auth, encode_chunked=True)
    response = connection.getresponse()
    assert response.status == 413 and json.loads(response.read())["error"] == "too-large"
    connection.close()


def test_busy_is_503_with_retry_after_and_a_long_check_stops_at_the_time_limit(guarded: Server,
                                                                                tmp_path: Path) -> None:
    big = tmp_path / "big.837"
    code, _, _ = run_cli("generate", "--claims", "1500", "-o", str(big))  # about a second to check
    assert code == 0 and big.stat().st_size < 1_000_000
    auth = {**EDI, "X-API-Key": KEY}
    answers: list[tuple[int, Any]] = []
    slow = threading.Thread(target=lambda: answers.append(call(guarded, "POST", "/v1/check", big.read_bytes(),
                                                               auth)[::2]))
    slow.start()
    for _ in range(200):  # until the slow check is running
        if call(guarded, "GET", "/healthz")[2]["pending"] == 1:
            break
        threading.Event().wait(0.01)
    status, headers, answer, _ = call(guarded, "POST", "/v1/check", FIXTURES[0].read_bytes(), auth)
    slow.join(60)
    assert status == 503 and answer["error"] == "busy" and int(headers["retry-after"]) >= 1
    assert answers[0][0] == 503 and answers[0][1]["error"] == "timeout", answers
    assert "0.5 s" in answers[0][1]["message"]
    status, _, report, _ = call(guarded, "POST", f"/v1/check?now={NOW}", FIXTURES[0].read_bytes(), auth)
    assert status == 200 and report["files"][0]["claims"], "the worker checks again after a time-out"


def test_it_binds_loopback_unless_told() -> None:
    host, port = parse_bind(DEFAULT_BIND)
    assert is_loopback(host) and port == 8837
    assert parse_bind("[::1]:0") == ("::1", 0) and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    with pytest.raises(ValueError, match="is not HOST:PORT"):
        parse_bind("8837")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(params=st.dictionaries(st.sampled_from(sorted(app.CHECK_PARAMETERS | {"ack", "Format", ""})),
                              st.text(max_size=30), max_size=5))
def test_any_query_is_a_check_or_a_400(params: dict[str, str]) -> None:
    """Whatever the query holds: the options of a check, or a 400 whose message is one printable line."""
    try:
        query = app.parse_query(params, load_config(None))
    except app.BadRequest as exc:
        assert exc.status == 400 and exc.code == "bad-parameter"
        assert printable(exc.message) == exc.message and "\n" not in exc.message
    else:
        assert query.fmt in ("json", "html", "csv") and (not query.acks or query.fmt == "json")
        assert "/" not in query.name and printable(query.name) == query.name  # shown as check shows file names


def _workers(server: Server) -> list[int]:
    """The server's worker processes (spawned by multiprocessing, which also starts a resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == \
                    server.process.pid and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def test_a_worker_killed_mid_check_is_a_500_and_the_server_goes_on(tmp_path: Path) -> None:
    big = tmp_path / "big.837"
    assert run_cli("generate", "--claims", "3000", "-o", str(big))[0] == 0
    with running_server("--workers", "1", cwd=tmp_path) as started:
        answers: list[tuple[int, Any]] = []
        slow = threading.Thread(target=lambda: answers.append(call(started, "POST", "/v1/check", big.read_bytes(),
                                                                   EDI)[::2]))
        slow.start()
        for _ in range(500):
            if call(started, "GET", "/healthz")[2]["pending"] == 1:
                break
            threading.Event().wait(0.01)
        workers = _workers(started)
        assert len(workers) == 1
        os.kill(workers[0], signal.SIGKILL)
        slow.join(60)
        assert answers[0][0] == 500 and answers[0][1]["error"] == "worker-died", answers
        status, _, report, _ = call(started, "POST", f"/v1/check?now={NOW}", FIXTURES[0].read_bytes(), EDI)
        assert status == 200 and len(report["files"][0]["claims"]) == 12, "new workers check the next request"
        started.process.send_signal(signal.SIGTERM)
        assert started.process.wait(30) == 0, "SIGTERM stops it, a normal end"
    assert not any("Traceback" in line for line in started.log), started.log
    assert started.log[-1] == "scrubber serve: stopped", started.log
