"""Run requests-cache 1.3.3's own test suite against requests_cache_like and classify the results.

How to run::

    python3 -m nox -s compat                     # installs what the suite needs, then runs
    python3 -m nox -s compat -- -k redis         # options not listed below go to pytest
    .nox/compat/bin/python scripts/compat/run_suite.py --output-dir /tmp/report [--pristine]

What it does:

1. Downloads requests-cache==1.3.3's sdist with ``pip download --no-binary :all:`` into
   ``--cache-dir`` (default ``~/.cache/rcl-compat``) and extracts its ``tests/`` there once; a
   second run reuses the extraction. requests-cache's own package is never extracted or installed.
2. Copies the tests to a fresh temporary directory and rewrites each top-level
   ``from requests_cache... import`` there into a deferred import (see
   ``plugin/rcl_compat_plugin.py``): a name our package lacks fails only the tests that use it,
   not the whole module. The suite's plumbing (conftest.py, base_*_test.py), and only it, gets a
   substitute for the few names in the plugin's ``PLUMBING_SUBSTITUTES`` that our package lacks;
   the report names each one used and how many items reach it. ``--pristine`` skips all this.
3. Starts real servers on 127.0.0.1 (``servers.py``): redis-server on 6379, SecantusDB (MongoDB
   protocol) on 27017, moto (DynamoDB) on 8000 - the suite hard-codes these defaults - and
   httpbin on a free port (``HTTPBIN_URL``). A busy port is a harness failure.
4. Runs pytest on the suite in a subprocess with the plugin ``rcl_compat_plugin`` (alias
   ``requests_cache`` -> ``requests_cache_like`` as the same module objects, renamed modules in
   its ``RENAMED`` table; loopback-only network; records every item) and a per-test timeout.
5. Classifies each item public/internal by static analysis of the pristine test source
   (``classify.py``) and writes ``report.json`` and ``report.md`` to ``--output-dir`` (default
   ``~/.cache/rcl-compat/report``), plus ``pytest.log`` and ``junit.xml``.

Classification: an item is *internal* when the code it runs from the suite (the test with its
decorators, the suite fixtures it uses, its classes' attributes, and the suite helpers, methods,
constants it reaches by name) shows: R1 a private attribute ``x._name`` (not on self/cls); R2 a
string naming a private attribute (``patch.object(x, '_y')``) or a ``requests_cache`` path with
a private component; R3 a name imported from a private module (``requests_cache._utils``), a
private name, or a requests-cache internal (``CacheActions``, ``requests_cache.policy.actions``);
R4 a hard-coded 16- or 64-hex cache key; R5 an SQL string. Otherwise it is *public*. Module-level
imports taint only the items that use the imported name. ``classify.OVERRIDES`` (item-id pattern
-> class, with a reason) wins over the rules.

Outcomes: "failed" (the test failed, or it used a name our package lacks), "error" (setup or
teardown failed, or the module failed to collect: then the item is the module), "skipped"
(including xfail). Public pass rate = passed / (passed + failed + error) over public items.

Exit status: 0 whenever the suite ran, whatever it measured; 2 when the harness itself failed
(download, extraction, a server, pytest crashing or exceeding ``--max-minutes``).
"""

from __future__ import annotations

import argparse
import ast
import collections
import datetime as dt
import importlib.util
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import classify  # noqa: E402
import servers  # noqa: E402

SUITE = "requests-cache"
VERSION = "1.3.3"
PLUGIN_DIR = HERE / "plugin"
DEFAULT_CACHE = Path.home() / ".cache" / "rcl-compat"
OUTCOMES = ("passed", "failed", "error", "skipped")


class HarnessError(RuntimeError):
    """The harness could not run the suite (as opposed to tests failing)."""


# --- the suite ----------------------------------------------------------------------------------


def fetch_suite(cache_dir: Path) -> Path:
    """The extracted suite root (holding ``tests/``), downloading it only the first time."""
    root = cache_dir / f"requests_cache-{VERSION}"
    if (root / ".complete").exists():
        return root
    sdist_dir = cache_dir / "sdist"
    sdist_dir.mkdir(parents=True, exist_ok=True)
    archives = sorted(sdist_dir.glob(f"requests_cache-{VERSION}.tar.gz"))
    if not archives:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"{SUITE}=={VERSION}",
            "-d",
            str(sdist_dir),
        ]
        print("+", " ".join(command), flush=True)
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        archives = sorted(sdist_dir.glob(f"requests_cache-{VERSION}.tar.gz"))
        if done.returncode != 0 or not archives:
            raise HarnessError(f"pip download failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    staging = Path(tempfile.mkdtemp(prefix="extract-", dir=cache_dir))
    prefix = f"requests_cache-{VERSION}/"
    wanted = (prefix + "tests/", prefix + "pyproject.toml", prefix + "LICENSE")
    with tarfile.open(archives[0]) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(wanted)]
        if not any(m.name.startswith(prefix + "tests/") for m in members):
            raise HarnessError(f"{archives[0]} holds no tests/")
        archive.extractall(staging, members=members, filter="data")
    extracted = staging / f"requests_cache-{VERSION}"
    (extracted / ".complete").write_text(f"{SUITE} {VERSION} tests\n")
    if root.exists():
        shutil.rmtree(root)
    extracted.rename(root)
    shutil.rmtree(staging, ignore_errors=True)
    return root


_STATEMENT = "({targets},) = __import__('rcl_compat_plugin').import_names({args})"


def rewrite_imports(path: Path, plumbing: bool) -> int:
    """Turn top-level ``from requests_cache... import`` into deferred imports; keeps line
    numbers. In plumbing modules (conftest.py, base_*_test.py) a few missing names get the
    plugin's substitutes. Returns how many statements were rewritten."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    count = 0
    for node in ast.parse(source).body:
        if not (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and node.module.split(".")[0] == "requests_cache"
            and node.col_offset == 0
            and node.end_lineno is not None
            and all(alias.name != "*" for alias in node.names)
        ):
            continue
        tail = lines[node.end_lineno - 1][node.end_col_offset or 0 :].strip()
        if tail and not tail.startswith("#"):
            continue  # another statement on the same line: leave it alone
        targets = ", ".join(alias.asname or alias.name for alias in node.names)
        names = tuple(alias.name for alias in node.names)
        args = f"{node.module!r}, {names!r}, __name__" + (", plumbing=True" if plumbing else "")
        lines[node.lineno - 1] = _STATEMENT.format(targets=targets, args=args) + "\n"
        for index in range(node.lineno, node.end_lineno):
            lines[index] = "\n"
        count += 1
    path.write_text("".join(lines), encoding="utf-8")
    return count


def prepare_workdir(suite_root: Path, pristine: bool) -> tuple[Path, dict[str, int]]:
    """A fresh copy of the suite's tests (outside the repository), rewritten unless pristine.

    It is made neither in the temp directory nor in the user cache directory: the suite checks
    that relative cache paths land in neither, as from a user's working directory."""
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    (state / "rcl-compat").mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=state / "rcl-compat"))
    shutil.copytree(suite_root / "tests", work / "tests")
    (work / "pytest.ini").write_text("[pytest]\naddopts =\n", encoding="utf-8")
    rewritten: dict[str, int] = {}
    if not pristine:
        for path in sorted((work / "tests").rglob("*.py")):
            count = rewrite_imports(path, plumbing=not path.name.startswith("test_"))
            if count:
                rewritten[str(path.relative_to(work))] = count
    return work, rewritten


# --- running ------------------------------------------------------------------------------------


def run_pytest(
    work: Path, output_dir: Path, env_extra: dict[str, str], args: argparse.Namespace
) -> tuple[int, Path, float]:
    results = work / "results.jsonl"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests",
        "-p",
        "rcl_compat_plugin",
        "-p",
        "no:cacheprovider",
        "-c",
        str(work / "pytest.ini"),
        "--rootdir",
        str(work),
        "--continue-on-collection-errors",
        "-q",
        "--tb=short",
        "-rN",
        f"--junitxml={output_dir / 'junit.xml'}",
    ]
    if importlib.util.find_spec("pytest_timeout") is not None:
        command.append(f"--timeout={args.timeout}")
    else:
        print("warning: pytest-timeout is not installed: no per-test timeout", flush=True)
    command += args.pytest_args
    env = dict(os.environ)
    env.update(env_extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PLUGIN_DIR), env.get("PYTHONPATH")]))
    env["RCL_COMPAT_RESULTS"] = str(results)
    env["RCL_COMPAT_SUITE_ROOT"] = str(work)
    env.pop("USE_PYTEST_HTTPBIN", None)
    log_path = output_dir / "pytest.log"
    print("+", " ".join(command), f"(in {work}; log: {log_path})", flush=True)
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            code = process.wait(timeout=args.max_minutes * 60)
        except subprocess.TimeoutExpired as exc:
            process.kill()
            process.wait()
            raise HarnessError(f"pytest ran longer than {args.max_minutes} minutes") from exc
    elapsed = time.monotonic() - started
    tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
    print("pytest:", *tail, f"(exit {code}, {elapsed:.0f}s)", flush=True)
    if code == 3 or not results.exists():
        raise HarnessError(f"pytest crashed (exit {code}); see {log_path}")
    return code, results, elapsed


# --- results ------------------------------------------------------------------------------------


def load_records(results: Path) -> list[dict[str, Any]]:
    with open(results, encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]


def final_outcome(reports: list[dict[str, Any]]) -> tuple[str, str]:
    """(outcome, reason) of one item from its setup/call/teardown reports."""
    outcome, reason = "not run", "no report (the run stopped before this item)"
    for report in reports:
        when, result = report["when"], report["outcome"]
        if when == "setup":
            if result == "failed":
                return "error", f"setup: {report['reason']}"
            if result == "skipped":
                return "skipped", report["reason"]
        elif when == "call":
            if result == "skipped" or (report["wasxfail"] and result == "passed"):
                outcome, reason = "skipped", report["reason"] or "xfail"
            elif result == "failed":
                outcome, reason = "failed", report["reason"]
            else:
                outcome, reason = "passed", ""
        elif when == "teardown" and result == "failed" and outcome in {"passed", "not run"}:
            outcome, reason = "error", f"teardown: {report['reason']}"
    return outcome, reason


def build_items(
    records: list[dict[str, Any]], work: Path, suite_root: Path
) -> list[dict[str, Any]]:
    """One entry per item. Classification reads the pristine sources (the work copy's imports
    were rewritten; line numbers are the same)."""
    index = classify.SuiteIndex(suite_root)
    records = [pristine_paths(record, work, suite_root) for record in records]
    substitutes = {f"{r['module']}.{r['name']}" for r in records if r["kind"] == "substitute"}
    reports: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for record in records:
        if record["kind"] == "report":
            reports[record["nodeid"]].append(record)
    items: list[dict[str, Any]] = []
    for record in records:
        if record["kind"] == "collected":
            outcome, reason = final_outcome(reports.get(record["nodeid"], []))
            klass, why, uses = classify.classify_item(index, record)
            substituted = sorted(uses & substitutes)
        elif record["kind"] == "collect_error":
            lost = count_tests(suite_root / record["nodeid"])
            outcome, reason = (
                "error",
                f"collection ({lost} test functions lost): {record['reason']}",
            )
            klass, why = classify.classify_collect_error(record["nodeid"], record["reason"])
            substituted = []
        else:
            continue
        items.append(
            {
                "id": record["nodeid"],
                "class": klass,
                "outcome": outcome,
                "reason": reason,
                "class_reasons": why,
                "substitutes": substituted,
            }
        )
    return items


def count_tests(path: Path) -> int:
    """Test functions (unparametrized) defined in a module that could not be collected."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return 0
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    )


def pristine_paths(record: dict[str, Any], work: Path, suite_root: Path) -> dict[str, Any]:
    """The record with source locations moved from the work copy to the pristine suite."""
    if record["kind"] != "collected":
        return record

    def move(loc: dict[str, Any] | None) -> dict[str, Any] | None:
        if loc is None:
            return None
        path = Path(loc["file"])
        if path.is_relative_to(work):
            path = suite_root / path.relative_to(work)
        return {**loc, "file": str(path)}

    return {
        **record,
        "function": move(record.get("function")),
        "classes": [move(loc) for loc in record.get("classes", [])],
        "fixtures": [move(loc) for loc in record.get("fixtures", [])],
    }


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+|0x[0-9a-fA-F]{6,}")
_TMP = re.compile(r"/tmp/[\w./-]+")


def root_cause(reason: str) -> str:
    """A reason with run-specific details removed, to group items by cause."""
    reason = re.sub(r"^(setup|teardown|collection[^:]*): ", "", reason)
    reason = _TMP.sub("<tmp>", _ADDRESS.sub("", reason))
    return reason[:160]


def summarize(items: list[dict[str, Any]]) -> dict[str, Any]:
    totals: dict[str, dict[str, int]] = {}
    for klass in (classify.PUBLIC, classify.INTERNAL, "all"):
        chosen = [i for i in items if klass in ("all", i["class"])]
        counts = collections.Counter(i["outcome"] for i in chosen)
        totals[klass] = {"total": len(chosen), **{o: counts.get(o, 0) for o in OUTCOMES}}
        if counts.get("not run"):
            totals[klass]["not run"] = counts["not run"]
    public = totals[classify.PUBLIC]
    ran = public["passed"] + public["failed"] + public["error"] + public.get("not run", 0)
    rate = round(100.0 * public["passed"] / ran, 1) if ran else 0.0
    failing = [
        i
        for i in items
        if i["class"] == classify.PUBLIC and i["outcome"] in {"failed", "error", "not run"}
    ]
    causes = collections.Counter(root_cause(i["reason"]) for i in failing)
    examples: dict[str, str] = {}
    for item in failing:
        examples.setdefault(root_cause(item["reason"]), item["id"])
    return {
        "totals": totals,
        "public_pass_rate": rate,
        "public_root_causes": [
            {"cause": cause, "items": n, "example": examples[cause]}
            for cause, n in causes.most_common()
        ],
        "failing_public": [
            {"id": i["id"], "outcome": i["outcome"], "reason": i["reason"]} for i in failing
        ],
    }


def write_reports(output_dir: Path, meta: dict[str, Any], items: list[dict[str, Any]]) -> None:
    summary = summarize(items)
    report = {**meta, **summary, "items": items}
    (output_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    totals = summary["totals"]
    lines = [
        f"# {SUITE} {VERSION} suite against requests_cache_like",
        "",
        f"Run {meta['started']} in {meta['pytest_seconds']:.0f}s, pytest exit "
        f"{meta['pytest_exit']}; servers: {', '.join(meta['servers']) or 'none'}.",
        f"Alias: {alias_line(meta['alias'])}.",
        f"Import rewrite: {'off (--pristine)' if meta['pristine'] else 'on'}; "
        f"deferred names: {len(meta['deferred'])}; plumbing substitutes: "
        f"{', '.join(s['name'] for s in meta['substitutes']) or 'none'}.",
        "",
        f"**Public pass rate: {summary['public_pass_rate']}%** "
        "(passed / (passed + failed + error), public items)",
        "",
        "| class | total | passed | failed | error | skipped |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for klass, counts in totals.items():
        lines.append(
            f"| {klass} | {counts['total']} | "
            + " | ".join(str(counts[o]) for o in OUTCOMES)
            + " |"
        )
    lines += [
        "",
        "## Failing public items by root cause",
        "",
        "| items | cause | example |",
        "| ---: | --- | --- |",
    ]
    for cause in summary["public_root_causes"]:
        text = cause["cause"].replace("|", "\\|")
        lines.append(f"| {cause['items']} | {text} | `{cause['example']}` |")
    if meta["deferred"]:
        lines += ["", "## Names the suite imports that requests_cache_like lacks", ""]
        for entry in meta["deferred"]:
            lines.append(
                f"- `{entry['module']}.{entry['name']}` ({entry['error']}), "
                f"imported by {', '.join(entry['importers'])}"
            )
    if meta["substitutes"]:
        lines += ["", "## Substitutes given to the suite's plumbing (not to test modules)", ""]
        for entry in meta["substitutes"]:
            reached = sum(
                1 for i in items if f"{entry['module']}.{entry['name']}" in i["substitutes"]
            )
            lines.append(
                f"- `{entry['module']}.{entry['name']}` ({entry['error']}) in "
                f"{', '.join(entry['importers'])}: {entry['why']}. {reached} items "
                "reach it: without it they would fail with that ImportError."
            )
    lines += ["", "## Failing public items", ""]
    for item in summary["failing_public"]:
        reason = item["reason"].replace("\n", " ")
        lines.append(f"- `{item['id']}` [{item['outcome']}]: {reason}")
    (output_dir / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def alias_line(alias: dict[str, Any] | None) -> str:
    if alias is None:
        return "NOT RECORDED (the plugin did not start)"
    same = "is" if alias["same_object"] else "is NOT"
    return f"`requests_cache` {same} `requests_cache_like` ({alias['file']})"


def import_events(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        if record["kind"] != kind:
            continue
        entry = merged.setdefault(
            (record["module"], record["name"]),
            {
                "module": record["module"],
                "name": record["name"],
                "error": record["error"],
                "why": record["why"],
                "importers": [],
            },
        )
        if record["importer"] not in entry["importers"]:
            entry["importers"].append(record["importer"])
    return sorted(merged.values(), key=lambda e: (e["module"], e["name"]))


# --- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        allow_abbrev=False,
        epilog="Any other argument (or everything after --) is passed on to pytest.",
    )
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_CACHE / "report")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=DEFAULT_CACHE,
        help="where the sdist and its extracted tests are kept",
    )
    parser.add_argument("--timeout", type=int, default=60, help="per-test timeout, seconds")
    parser.add_argument(
        "--max-minutes",
        type=float,
        default=20.0,
        help="stop the whole pytest run after this long (a harness failure)",
    )
    parser.add_argument(
        "--pristine", action="store_true", help="run the suite without the deferred-import rewrite"
    )
    parser.add_argument(
        "--keep-workdir",
        action="store_true",
        help="keep the temporary copy of the suite after the run",
    )
    argv = sys.argv[1:] if argv is None else argv
    after = argv.index("--") if "--" in argv else len(argv)
    args, extra = parser.parse_known_args(argv[:after])
    args.pytest_args = extra + argv[after + 1 :]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    running: list[servers.Server] = []
    work: Path | None = None
    try:
        suite_root = fetch_suite(args.cache_dir)
        work, rewritten = prepare_workdir(suite_root, args.pristine)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request
        running = servers.start_all()
        for server in running:
            print("started", server.describe(), flush=True)
        code, results, seconds = run_pytest(
            work, args.output_dir, servers.server_env(running), args
        )
        servers.assert_reachable(running)
        records = load_records(results)
        items = build_items(records, work, suite_root)
    except (HarnessError, servers.ServerError, OSError) as exc:
        print(f"compat harness failed: {exc}", file=sys.stderr)
        return 2
    finally:
        servers.stop_all(running)
        if work is not None and not args.keep_workdir:
            shutil.rmtree(work, ignore_errors=True)
    meta = {
        "suite": f"{SUITE}=={VERSION}",
        "started": started,
        "pytest_exit": code,
        "pytest_seconds": round(seconds, 1),
        "pytest_args": args.pytest_args,
        "pristine": args.pristine,
        "servers": [server.describe() for server in running],
        "alias": next((r for r in records if r["kind"] == "alias"), None),
        "rewritten_imports": rewritten,
        "deferred": import_events(records, "deferred"),
        "substitutes": import_events(records, "substitute"),
        "overrides": {k: list(v) for k, v in classify.OVERRIDES.items()},
    }
    write_reports(args.output_dir, meta, items)
    totals = summarize(items)
    public = totals["totals"][classify.PUBLIC]
    print(
        f"items: {len(items)}; public {public['total']} (passed {public['passed']}, failed "
        f"{public['failed']}, error {public['error']}, skipped {public['skipped']}); internal "
        f"{totals['totals'][classify.INTERNAL]['total']}; public pass rate "
        f"{totals['public_pass_rate']}%"
    )
    print(f"report: {args.output_dir / 'report.md'} and report.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
