"""Run the HTTP caching conformance suite (cache-tests) against a standards-mode session.

The test definitions are the suite's JSON export (``data/cache-tests.json``, BSD-3-Clause, see
``data/LICENSE``). This module plays both of the suite's parts:

- the origin (the suite's ``handle-test``): a threaded HTTP server on 127.0.0.1 that answers
  each request of a test from its configuration and records what it received;
- the client (the suite's ``test.mjs``): it sends each test's requests through a fresh
  ``CachedSession(backend="memory", cache_control=True)`` and checks the responses, and then
  the origin's record, the way the suite's own client does.

The suite pauses three seconds after some requests; here the clock is moved instead
(time-machine, which the origin thread sees too), so a full run takes seconds.

Run ``python -m tests.conformance.runner`` for a report; ``--markdown`` prints the per-test
failure list used in ``docs/conformance.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
import time_machine

DATA_FILE = Path(__file__).parent / "data" / "cache-tests.json"
RATCHET_FILE = Path(__file__).parent / "ratchet.json"

#: Suites and tests outside the private client cache profile (see data/README.md).
EXCLUDED_SUITES = frozenset({"cdn-cache-control", "interim"})
SHARED_ONLY_TESTS = frozenset(
    {
        "freshness-s-maxage-shared",
        "freshness-max-age-s-maxage-shared-longer",
        "freshness-max-age-s-maxage-shared-longer-reversed",
        "freshness-max-age-s-maxage-shared-longer-multiple",
        "freshness-max-age-s-maxage-shared-shorter",
        "freshness-max-age-s-maxage-shared-shorter-expires",
        "cc-resp-private-shared",
        "stale-close-proxy-revalidate",
        "stale-close-s-maxage=2",
        "other-authorization",
        "other-authorization-public",
        "other-authorization-must-revalidate",
        "other-authorization-smaxage",
    }
)
#: Tests that need a browser's reload button (fetch ``cache: "no-cache"``).
BROWSER_RELOAD_TESTS = frozenset({"cc-resp-immutable-fresh", "cc-resp-immutable-stale"})

PAUSE_SECONDS = 3
NO_BODY_STATUSES = frozenset({204, 304})
DATE_HEADERS = frozenset(
    {"date", "expires", "last-modified", "if-modified-since", "if-unmodified-since"}
)
LOCATION_HEADERS = frozenset({"location", "content-location"})
#: Response headers the suite never compares (they just cause spurious failures).
SKIP_RESPONSE_HEADERS = frozenset({"date"})
START = datetime(2026, 1, 5, 12, 0, 0, tzinfo=timezone.utc)
REQUEST_TIMEOUT = 10


class SetupError(Exception):
    """A check on a part of the test marked as setup failed: the test could not run."""


class AssertionFailure(Exception):
    """A check on what the test is about failed."""


def check(is_setup: bool, condition: bool, message: str) -> None:
    """Raise the right failure if ``condition`` is false."""
    if not condition:
        raise (SetupError if is_setup else AssertionFailure)(message)


def setup_check(config: Mapping[str, Any], member: str) -> bool:
    """True if a failure of ``member`` means the test could not be set up."""
    return config.get("setup") is True or member in config.get("setup_tests", ())


def load_suites(path: Path = DATA_FILE) -> list[dict[str, Any]]:
    """Return the suites of the exported test definitions."""
    data = json.loads(path.read_text(encoding="utf-8"))
    suites: list[dict[str, Any]] = data["suites"]
    return suites


def in_profile(suite_id: str, test: Mapping[str, Any]) -> bool:
    """True if ``test`` applies to a private client cache."""
    return not (
        suite_id in EXCLUDED_SUITES
        or test["id"] in SHARED_ONLY_TESTS
        or test["id"] in BROWSER_RELOAD_TESTS
    )


def http_date(now_ms: int, delta_seconds: int, rfc850: bool = False) -> str:
    """Return ``now_ms`` + ``delta_seconds`` as an HTTP date (the suite's ``httpDate``)."""
    instant = now_ms / 1000 + delta_seconds
    if rfc850:
        return time.strftime("%A, %d-%b-%y %H:%M:%S GMT", time.gmtime(instant))
    return formatdate(instant, usegmt=True)


def fixup_header(
    header: list[Any], response_headers: Mapping[str, str], config: Mapping[str, Any]
) -> list[Any]:
    """Resolve the suite's "magic" header values: relative dates and local locations."""
    name = header[0].lower()
    header = list(header)
    if name in DATE_HEADERS and isinstance(header[1], int) and not isinstance(header[1], bool):
        server_now = int(response_headers["server-now"])
        header[1] = http_date(server_now, header[1], name in config.get("rfc850date", ()))
    if name in LOCATION_HEADERS and config.get("magic_locations"):
        base = response_headers["server-base-url"]
        header[1] = f"{base}/{header[1]}" if header[1] else base
    return header


class _Clock:
    """The runner's clock: time-machine frozen at :data:`START`, moved only on purpose."""

    def __init__(self) -> None:
        self._traveller: Any = None
        self._lock = threading.Lock()

    @contextmanager
    def frozen(self) -> Iterator[None]:
        with time_machine.travel(START, tick=False) as traveller:
            self._traveller = traveller
            try:
                yield
            finally:
                self._traveller = None

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._traveller.shift(seconds)


class Origin:
    """The suite's origin server: answers each test's requests from its configuration."""

    def __init__(self, clock: _Clock) -> None:
        self.clock = clock
        self.configs: dict[str, list[dict[str, Any]]] = {}
        self.state: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Origin:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                origin.answer(self)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any

        # Methods whose names are not identifiers (the invalidation suite sends M-SEARCH).
        setattr(Handler, "do_M-SEARCH", Handler.handle_any)
        return Handler

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        """Answer one request as the suite's ``handle-test`` does."""
        path = handler.path.split("?", 1)[0]
        segments = path.strip("/").split("/")
        test_uuid = segments[1] if len(segments) > 1 and segments[0] == "test" else ""
        requests_config = self.configs.get(test_uuid)
        if requests_config is None:
            self._plain(handler, 404, f"Config not found for {test_uuid!r}")
            return
        request_headers: dict[str, str] = {}
        for name, value in handler.headers.items():
            key = name.lower()
            request_headers[key] = (
                f"{request_headers[key]}, {value}" if key in request_headers else value
            )
        with self._lock:
            server_state = self.state.setdefault(test_uuid, [])
            server_number = len(server_state) + 1
            client_number = int(request_headers.get("req-num") or 0)
            number = client_number or server_number
            if number > len(requests_config):
                self._plain(handler, 409, f"no config for request {number}")
                return
            config = requests_config[number - 1]
            previous = requests_config[number - 2] if number > 1 else {}
            if "response_pause" in config:
                self.clock.advance(config["response_pause"])
            now_ms = int(time.time() * 1000)

            status = list(config.get("response_status") or [200, "OK"])
            if config.get("expected_type", "").endswith("validated"):
                previous_headers = previous.get("response_headers", [])
                last_modified = _header_value(previous_headers, "Last-Modified")
                etag = _header_value(previous_headers, "ETag")
                if last_modified and request_headers.get("if-modified-since") == last_modified:
                    status = [304, "Not Modified"]
                if etag and request_headers.get("if-none-match") == etag:
                    status = [304, "Not Modified"]
                if status[0] != 304:
                    status = [999, "304 Not Generated"]

            headers: list[tuple[str, str]] = [
                ("Server-Base-Url", handler.path),
                ("Server-Request-Count", str(server_number)),
                ("Client-Request-Count", str(client_number)),
                ("Server-Now", str(now_ms)),
            ]
            saved: dict[str, list[str]] = {}
            saved_names: list[str] = []
            configured = config.get("response_headers", [])
            for index, raw_header in enumerate(configured):
                header = fixup_header(
                    raw_header, {"server-now": str(now_ms), "server-base-url": handler.path}, config
                )
                # The suite's server rewrites the configuration in place, so a later request
                # compares its validators with the values actually sent.
                configured[index] = header
                name, value = header[0], str(header[1])
                headers.append((name, value))
                if len(header) < 3 or header[2] is True:
                    lowered = [n.lower() for n in saved_names]
                    if name.lower() not in lowered:
                        saved_names.append(name)
                    saved.setdefault(name.lower(), []).append(value)
            names = {name.lower() for name, _ in headers}
            if "content-type" not in names:
                headers.append(("Content-Type", "text/plain"))
            if "date" not in names:
                # Node's http server adds Date when the test does not set one.
                headers.append(("Date", http_date(now_ms, 0)))
            server_state.append(
                {
                    "request_num": client_number,
                    "request_method": handler.command,
                    "request_headers": request_headers,
                    "response_headers": [
                        [name, ", ".join(saved[name.lower()])] for name in saved_names
                    ],
                }
            )
            numbers = " ".join(str(item["request_num"]) for item in server_state)
        headers.append(("Request-Numbers", numbers))

        if config.get("disconnect"):
            handler.close_connection = True
            handler.wfile.flush()
            handler.connection.close()
            return
        body = b""
        if status[0] not in NO_BODY_STATUSES:
            body = (config.get("response_body") or test_uuid).encode()
        declared = _header_value(headers, "Content-Length")
        if declared is not None and declared.isdigit() and int(declared) != len(body):
            # A test that sets its own Content-Length: send that many bytes, then close.
            body = body[: int(declared)]
            handler.close_connection = True
        handler.send_response_only(status[0], status[1])
        for name, value in headers:
            handler.send_header(name, value)
        if status[0] not in NO_BODY_STATUSES and declared is None:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD" and body:
            handler.wfile.write(body)

    @staticmethod
    def _plain(handler: BaseHTTPRequestHandler, status: int, message: str) -> None:
        body = message.encode()
        handler.send_response_only(status)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


def _header_value(headers: Sequence[Sequence[Any]], name: str) -> Any:
    result = None
    for header in headers:
        if header[0].lower() == name.lower():
            result = header[1]
    return result


SessionFactory = Callable[[], requests.Session]


def default_session() -> requests.Session:
    """A fresh session in standards mode."""
    from requests_cache_like import CachedSession

    return CachedSession(backend="memory", cache_control=True)


class Runner:
    """Runs tests one at a time against an :class:`Origin`."""

    def __init__(self, origin: Origin, clock: _Clock, make_session: SessionFactory) -> None:
        self.origin = origin
        self.clock = clock
        self.make_session = make_session

    def run(self, test: Mapping[str, Any]) -> bool | tuple[str, str]:
        """Return True if ``test`` passes, else ``(kind, message)``."""
        test_uuid = str(uuid.uuid4())
        # A deep copy: the origin rewrites magic header values in place, as the suite does.
        configs = [
            dict(config, name=test["name"], id=test["id"])
            for config in json.loads(json.dumps(test["requests"]))
        ]
        self.origin.configs[test_uuid] = configs
        responses: list[requests.Response] = []
        session = self.make_session()
        try:
            for index, config in enumerate(configs):
                previous = responses[index - 1].headers if index else None
                response = self._send(session, test_uuid, index, config, previous)
                responses.append(response)
                self._check_response(test_uuid, configs, index, response)
                if config.get("pause_after"):
                    self.clock.advance(PAUSE_SECONDS)
            self._check_server(configs, responses, self.origin.state.get(test_uuid, []))
        except SetupError as exc:
            return ("Setup", str(exc))
        except AssertionFailure as exc:
            return ("Assertion", str(exc))
        except requests.RequestException as exc:
            return ("Error", f"{type(exc).__name__}: {exc}")
        finally:
            session.close()
            self.origin.configs.pop(test_uuid, None)
            self.origin.state.pop(test_uuid, None)
        return True

    def _send(
        self,
        session: requests.Session,
        test_uuid: str,
        index: int,
        config: Mapping[str, Any],
        previous: Mapping[str, str] | None,
    ) -> requests.Response:
        url = f"{self.origin.base_url}/test/{test_uuid}"
        if "filename" in config:
            url += f"/{config['filename']}"
        if "query_arg" in config:
            url += f"?{config['query_arg']}"
        # What the suite's client sends when it drives a cache other than a browser's.
        header_list: list[list[Any]] = [["Pragma", "foo"], ["Cache-Control", "nothing-to-see-here"]]
        for header in config.get("request_headers", []):
            header = list(header)
            if config.get("magic_ims") and header[0].lower() == "if-modified-since":
                assert previous is not None
                header = fixup_header(header, {"server-now": previous["Server-Now"]}, config)
            header_list.append(header)
        header_list.append(["Test-Name", config["name"]])
        header_list.append(["Test-ID", config["id"]])
        header_list.append(["Req-Num", str(index + 1)])
        headers: dict[str, str] = {}
        for name, value in header_list:
            # Fetch trims leading and trailing whitespace from header values.
            value = str(value).strip(" \t")
            existing = next((k for k in headers if k.lower() == name.lower()), None)
            if existing is None:
                headers[name] = str(value)
            else:
                headers[existing] = f"{headers[existing]}, {value}"
        return session.request(
            config.get("request_method", "GET"),
            url,
            headers=headers,
            data=config.get("request_body"),
            allow_redirects=config.get("redirect") != "manual",
            timeout=REQUEST_TIMEOUT,
        )

    @staticmethod
    def _check_response(
        test_uuid: str,
        configs: Sequence[Mapping[str, Any]],
        index: int,
        response: requests.Response,
    ) -> None:
        number = index + 1
        config = configs[index]
        headers = response.headers
        try:
            served_by = int(headers.get("Server-Request-Count", ""))
        except ValueError:
            served_by = None

        if "Request-Numbers" in headers:
            seen = [item for item in headers["Request-Numbers"].split(" ") if item]
            check(True, len(seen) == len(set(seen)), "retry")

        expected_type = config.get("expected_type")
        if expected_type is not None:
            type_setup = setup_check(config, "expected_type")
            if expected_type == "cached" and not (
                response.status_code == 304 and served_by is None
            ):
                check(
                    type_setup,
                    served_by is not None and served_by < number,
                    f"Response {number} does not come from cache",
                )
            if expected_type == "not_cached":
                check(type_setup, served_by == number, f"Response {number} comes from cache")

        if "expected_status" in config:
            if config["expected_status"] is not None:
                check(
                    setup_check(config, "expected_status"),
                    response.status_code == config["expected_status"],
                    f"Response {number} status is {response.status_code}, "
                    f"not {config['expected_status']}",
                )
        elif "response_status" in config:
            check(
                True,
                response.status_code == config["response_status"][0],
                f"Response {number} status is {response.status_code}, "
                f"not {config['response_status'][0]}",
            )
        elif response.status_code == 999:
            check(
                setup_check(config, "expected_type"),
                False,
                f"Request {number} should have been conditional, but it was not.",
            )
        else:
            check(
                True,
                response.status_code == 200,
                f"Response {number} status is {response.status_code}, not 200",
            )

        present_setup = setup_check(config, "expected_response_headers")
        for header in config.get("expected_response_headers", []):
            if isinstance(header, str):
                check(
                    present_setup,
                    header in headers,
                    f"Response {number} {header} header not present.",
                )
            elif len(header) > 2:
                check(
                    present_setup,
                    header[0] in headers,
                    f"Response {number} {header[0]} header not present.",
                )
                value = headers.get(header[0])
                if header[1] == "=":
                    condition = value == headers.get(header[2])
                elif header[1] == ">":
                    condition = _int_prefix(value) > header[2]
                else:
                    raise ValueError(f"unknown expected-header operator {header[1]!r}")
                check(
                    present_setup,
                    condition,
                    f"Response {number} header {header[0]} is {value}, "
                    f"should be {header[1]} {header[2]}",
                )
            else:
                lowered = {k.lower(): v for k, v in headers.items()}
                expected = fixup_header(header, lowered, config)[1]
                check(
                    present_setup,
                    headers.get(header[0]) == expected,
                    f'Response {number} header {header[0]} is "{headers.get(header[0])}", '
                    f'not "{expected}"',
                )

        missing_setup = setup_check(config, "expected_response_headers_missing")
        for header in config.get("expected_response_headers_missing", []):
            if isinstance(header, str):
                check(
                    missing_setup,
                    header not in headers,
                    f"Response {number} includes unexpected header "
                    f'{header}: "{headers.get(header)}"',
                )
            else:
                # [name, value]: the value must not survive in that header.
                value = headers.get(header[0])
                check(
                    missing_setup,
                    value is None or header[1] not in value,
                    f'Response {number} header {header[0]} still has value "{value}"',
                )

        Runner._check_body(test_uuid, config, response)

    @staticmethod
    def _check_body(test_uuid: str, config: Mapping[str, Any], response: requests.Response) -> None:
        body = response.text
        if config.get("check_body") is False:
            return
        if "expected_response_text" in config:
            if config["expected_response_text"] is not None:
                check(
                    setup_check(config, "expected_response_text"),
                    body == config["expected_response_text"],
                    f'Response body is "{body}", not "{config["expected_response_text"]}"',
                )
        elif config.get("response_body") is not None:
            check(
                True,
                body == config["response_body"],
                f'Response body is "{body}", not "{config["response_body"]}"',
            )
        elif (
            response.status_code not in NO_BODY_STATUSES and config.get("request_method") != "HEAD"
        ):
            check(True, body == test_uuid, f'Response body is "{body}", not "{test_uuid}"')

    @staticmethod
    def _check_server(
        configs: Sequence[Mapping[str, Any]],
        responses: Sequence[requests.Response],
        server_state: Sequence[Mapping[str, Any]],
    ) -> None:
        server_index = 0
        for index, config in enumerate(configs):
            number = index + 1
            response = responses[index]
            server_request = (
                server_state[server_index] if server_index < len(server_state) else None
            )
            type_setup = setup_check(config, "expected_type")
            validating: list[str] = []
            expected_type = config.get("expected_type")
            if expected_type == "cached":
                continue  # the origin does not see this request
            if expected_type == "not_cached":
                check(
                    type_setup,
                    server_request is not None and server_request["request_num"] == number,
                    f"Response {number} comes from cache",
                )
            if expected_type == "etag_validated":
                validating.append("if-none-match")
            if expected_type == "lm_validated":
                validating.append("if-modified-since")
            server_index += 1
            for name in validating:
                check(
                    type_setup,
                    server_request is not None,
                    f"request {number} wasn't sent to server",
                )
                assert server_request is not None
                check(
                    type_setup,
                    name in server_request["request_headers"],
                    f"request {number} doesn't have {name} header",
                )
            if "expected_request_headers" in config:
                setup = setup_check(config, "expected_request_headers")
                sent = server_request["request_headers"] if server_request else {}
                for header in config["expected_request_headers"]:
                    if isinstance(header, str):
                        check(
                            setup,
                            header.lower() in sent,
                            f"Request {number} {header} header not present.",
                        )
                    else:
                        value = sent.get(header[0].lower())
                        check(
                            setup,
                            value == header[1],
                            f'Request {number} header {header[0]} is "{value}", not "{header[1]}"',
                        )
            if server_request is not None:
                for name, value in server_request["response_headers"]:
                    if name.lower() in SKIP_RESPONSE_HEADERS:
                        continue
                    received = response.headers.get(name)
                    check(
                        True,
                        received == value,
                        f'Response {number} header {name} is "{received}", not "{value}"',
                    )
            if "expected_method" in config:
                method = server_request["request_method"] if server_request else None
                check(
                    setup_check(config, "expected_method"),
                    method == config["expected_method"],
                    f"Request {number} had method {method}, not {config['expected_method']}",
                )


def _int_prefix(value: str | None) -> int:
    """``parseInt`` as JavaScript reads it: leading digits, else NaN (here -1)."""
    digits = ""
    for char in (value or "").strip():
        if not char.isdigit():
            break
        digits += char
    return int(digits) if digits else -1


PASS_RESULTS = frozenset({"pass", "yes"})


def verdict(
    test: Mapping[str, Any],
    results: Mapping[str, bool | tuple[str, str]],
    tests_by_id: Mapping[str, Mapping[str, Any]],
) -> str:
    """The suite's reading of a result: pass, fail, optional_fail, yes, no, setup_fail or
    dependency_fail (a test counts only when the tests it depends on pass)."""
    result = results.get(test["id"])
    if result is None:
        return "untested"
    for dependency in test.get("depends_on", ()):
        if verdict(tests_by_id[dependency], results, tests_by_id) not in PASS_RESULTS:
            return "dependency_fail"
    if isinstance(result, tuple) and result[0] == "Setup":
        return "retry" if result[1] == "retry" else "setup_fail"
    kind = test.get("kind", "required")
    if kind == "optimal":
        return "pass" if result is True else "optional_fail"
    if kind == "check":
        return "yes" if result is True else "no"
    return "pass" if result is True else "fail"


def run_suite(
    make_session: SessionFactory = default_session,
    only: Callable[[str, Mapping[str, Any]], bool] = in_profile,
    path: Path = DATA_FILE,
) -> dict[str, Any]:
    """Run every test ``only`` selects; return results, verdicts and counts."""
    suites = load_suites(path)
    tests_by_id = {test["id"]: test for suite in suites for test in suite["tests"]}
    selected = [
        (suite["id"], test)
        for suite in suites
        for test in suite["tests"]
        if only(suite["id"], test)
    ]
    clock = _Clock()
    results: dict[str, bool | tuple[str, str]] = {}
    with clock.frozen(), Origin(clock) as origin:
        runner = Runner(origin, clock, make_session)
        for _, test in selected:
            results[test["id"]] = runner.run(test)
    verdicts = {test["id"]: verdict(test, results, tests_by_id) for _, test in selected}
    required = [test for _, test in selected if test.get("kind", "required") == "required"]
    return {
        "selected": [test["id"] for _, test in selected],
        "suite_of": {test["id"]: suite_id for suite_id, test in selected},
        "results": results,
        "verdicts": verdicts,
        "passed": sum(1 for v in verdicts.values() if v in PASS_RESULTS),
        "total": len(selected),
        "required_passed": sum(1 for t in required if verdicts[t["id"]] == "pass"),
        "required_total": len(required),
        "tests_by_id": tests_by_id,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Print a summary of a run (and, with ``--failures``, why each failing test fails)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--failures", action="store_true", help="list each failing test")
    parser.add_argument("--markdown", action="store_true", help="failures as a Markdown list")
    parser.add_argument("--test", action="append", default=[], help="run only these test ids")
    args = parser.parse_args(argv)
    # Stale answers after dropped connections are expected here; keep the report readable.
    logging.getLogger("requests_cache_like").setLevel(logging.ERROR)
    only = in_profile
    if args.test:
        wanted = set(args.test)

        def only(suite_id: str, test: Mapping[str, Any]) -> bool:
            return test["id"] in wanted

    report = run_suite(only=only)
    print(
        f"passed {report['passed']}/{report['total']}, "
        f"required {report['required_passed']}/{report['required_total']}"
    )
    if args.failures or args.markdown or args.test:
        for test_id in report["selected"]:
            outcome = report["verdicts"][test_id]
            if outcome in PASS_RESULTS:
                continue
            result = report["results"][test_id]
            kind = report["tests_by_id"][test_id].get("kind", "required")
            detail = result[1] if isinstance(result, tuple) else "passes, but a dependency fails"
            if args.markdown:
                print(f"- `{test_id}` ({kind}, {outcome}): {detail}")
            else:
                print(
                    f"{report['suite_of'][test_id]:16} {test_id:55} {kind:8} {outcome:16} {detail}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
