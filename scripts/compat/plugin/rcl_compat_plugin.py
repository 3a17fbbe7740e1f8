"""pytest plugin for the compat run: ``import requests_cache`` is requests_cache_like.

Loaded with ``-p rcl_compat_plugin`` (its folder on PYTHONPATH) before any conftest or test
module is imported; ``scripts/compat/run_suite.py`` does that. It does four things:

1. Alias: a meta-path finder, first on ``sys.meta_path``, resolves ``requests_cache`` and every
   ``requests_cache.X.Y`` to the *same module object* as ``requests_cache_like.X.Y`` (or the
   module named in :data:`RENAMED`). When neither exists the finder declines and the import fails
   the normal way (``ModuleNotFoundError``): that is an incompatibility to report.
2. Deferred imports: run_suite.py rewrites each top-level ``from requests_cache... import a, b``
   of the downloaded test modules into a call to :func:`import_names`. A name our package lacks
   becomes a :class:`MissingName` placeholder instead of failing the whole module's collection;
   a test that uses it (calls it, reads an attribute, iterates it, is parametrized by it, ...)
   fails with the ImportError the import would have raised, and is marked failed even if it
   caught that error itself. Tests that never use the name run normally.
3. Network guard: ``socket.connect`` refuses any address that is not loopback, so a test that
   misses its mock or local server fails instead of reaching out.
4. Results: the alias check, every collected item's outcome, the source locations the
   classifier needs, the deferred names and collection errors are appended as JSON lines to
   ``$RCL_COMPAT_RESULTS``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import ipaddress
import json
import os
import socket
import sys
import types
from collections.abc import Generator, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

SOURCE_PACKAGE = "requests_cache"
TARGET_PACKAGE = "requests_cache_like"

#: requests-cache module -> our module, where the module exists under another name.
RENAMED: dict[str, str] = {
    "requests_cache.models.raw_response": "requests_cache_like.models.raw",
}

#: Values given to the suite's *plumbing* only (conftest.py and the shared ``base_*_test.py``
#: helpers that nearly every test goes through) for names our package lacks, so that one missing
#: constant does not fail the whole run. Test modules (``test_*.py``) never get these: there the
#: name is a MissingName. run_suite.py reports each substitute and the items that reach it.
PLUMBING_SUBSTITUTES: dict[tuple[str, str], tuple[Any, str]] = {
    ("requests_cache", "ALL_METHODS"): (
        ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"),
        "requests-cache's documented tuple of all cacheable methods",
    ),
    ("requests_cache", "utcnow"): (
        lambda: datetime.now(timezone.utc),
        "timezone-aware current UTC time, as documented by requests-cache",
    ),
}


def target_name(fullname: str) -> str:
    """The requests_cache_like module that stands for requests-cache module ``fullname``: the
    one at the same path when it exists, else the one named in :data:`RENAMED`."""
    same = TARGET_PACKAGE + fullname[len(SOURCE_PACKAGE) :]
    try:
        if importlib.util.find_spec(same) is not None:
            return same
    except ModuleNotFoundError:
        pass
    return RENAMED.get(fullname, same)


class AliasLoader(importlib.abc.Loader):
    """Hands out the already-imported target module itself, so both names share one object."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.real_spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = importlib.import_module(self.target)
        self.real_spec = module.__spec__
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system set __spec__ to the alias spec; give the module its own back.
        module.__spec__ = self.real_spec


class AliasFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder for ``requests_cache`` and its submodules."""

    def find_spec(
        self, fullname: str, path: Any = None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != SOURCE_PACKAGE and not fullname.startswith(SOURCE_PACKAGE + "."):
            return None
        name = target_name(fullname)
        try:
            spec = importlib.util.find_spec(name)
        except ImportError:
            return None
        if spec is None:
            return None  # the next finders fail too: a real ModuleNotFoundError
        return importlib.util.spec_from_loader(
            fullname, AliasLoader(name), is_package=spec.submodule_search_locations is not None
        )


def install_alias() -> None:
    """Put the alias finder first on sys.meta_path (idempotent)."""
    if not any(isinstance(finder, AliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, AliasFinder())


# --- deferred imports -------------------------------------------------------------------------

_STATE: dict[str, Any] = {"in_test": False, "touched": []}


def _emit(record: dict[str, Any]) -> None:
    path = os.environ.get("RCL_COMPAT_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(record, default=str) + "\n")


class MissingName:
    """Stands for a name that ``from requests_cache... import`` could not provide.

    While modules are collected, using it yields further placeholders (so a decorator or a
    parametrize list that mentions it does not break collection); while a test runs, any use
    raises the original ImportError and is recorded against the test.
    """

    def __init__(self, exc_type: type[ImportError], message: str) -> None:
        object.__setattr__(self, "_rcl_exc_type", exc_type)
        object.__setattr__(self, "_rcl_message", message)

    def _rcl_use(self) -> MissingName:
        exc_type: type[ImportError] = object.__getattribute__(self, "_rcl_exc_type")
        message: str = object.__getattribute__(self, "_rcl_message")
        if _STATE["in_test"]:
            _STATE["touched"].append(f"{exc_type.__name__}: {message}")
            raise exc_type(message)
        return MissingName(exc_type, message)

    def __repr__(self) -> str:
        return f"<missing: {object.__getattribute__(self, '_rcl_message')}>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "pytestmark":
            raise AttributeError(name)
        return self._rcl_use()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._rcl_use()

    def __getitem__(self, key: Any) -> Any:
        return self._rcl_use()

    def __setitem__(self, key: Any, value: Any) -> None:
        self._rcl_use()

    def __delitem__(self, key: Any) -> None:
        self._rcl_use()

    def _rcl_operator(self, *other: Any) -> Any:
        return self._rcl_use()

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _rcl_operator
    __truediv__ = __rtruediv__ = __or__ = __ror__ = __and__ = __rand__ = _rcl_operator
    __lt__ = __le__ = __gt__ = __ge__ = __neg__ = _rcl_operator

    def __iter__(self) -> Iterator[Any]:
        return iter([self._rcl_use()])

    def __len__(self) -> int:
        self._rcl_use()
        return 1

    def __contains__(self, item: Any) -> bool:
        self._rcl_use()
        return False

    def __bool__(self) -> bool:
        self._rcl_use()
        return True

    def __str__(self) -> str:
        self._rcl_use()
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if _STATE["in_test"]:
            self._rcl_use()
        return self is other

    __hash__ = object.__hash__

    def __instancecheck__(self, instance: Any) -> bool:
        if _STATE["in_test"]:
            self._rcl_use()
        return False

    def __subclasscheck__(self, subclass: Any) -> bool:
        if _STATE["in_test"]:
            self._rcl_use()
        return False

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type, ...]:
        # A class cannot be built on a missing base: let the module fail to import.
        exc_type: type[ImportError] = object.__getattribute__(self, "_rcl_exc_type")
        raise exc_type(object.__getattribute__(self, "_rcl_message"))


def import_names(
    module_name: str, names: tuple[str, ...], importer: str, plumbing: bool = False
) -> tuple[Any, ...]:
    """``from module_name import *names``, with a placeholder for each name that is missing."""
    try:
        module: types.ModuleType | None = importlib.import_module(module_name)
        failure: ImportError | None = None
    except ImportError as exc:
        module, failure = None, exc
    values: list[Any] = []
    for name in names:
        if module is not None:
            if hasattr(module, name):
                values.append(getattr(module, name))
                continue
            try:  # from-import also finds submodules
                values.append(importlib.import_module(f"{module_name}.{name}"))
                continue
            except ImportError:
                pass
        if failure is not None:
            exc_type: type[ImportError] = type(failure)
            message = str(failure)
        else:
            exc_type = ImportError
            message = f"cannot import name {name!r} from {module_name!r}"
        substitute = PLUMBING_SUBSTITUTES.get((module_name, name)) if plumbing else None
        kind = "substitute" if substitute is not None else "deferred"
        _emit(
            {
                "kind": kind,
                "importer": importer,
                "module": module_name,
                "name": name,
                "error": f"{exc_type.__name__}: {message}",
                "why": substitute[1] if substitute else "",
            }
        )
        values.append(substitute[0] if substitute else MissingName(exc_type, message))
    return tuple(values)


# --- network guard ----------------------------------------------------------------------------


def _loopback_only(address: Any) -> None:
    """Refuse a TCP/UDP connection to anything but loopback: the suite must use our servers."""
    if not (isinstance(address, tuple) and len(address) >= 2 and isinstance(address[0], str)):
        return  # AF_UNIX paths and the like
    host, port = address[0], address[1]
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(host, port)}
    except OSError:
        return  # unresolvable: connect() itself fails the normal way
    for ip in resolved:
        if not ipaddress.ip_address(str(ip).split("%")[0]).is_loopback:
            raise ConnectionRefusedError(f"compat harness: no network beyond loopback ({host})")


def install_network_guard() -> None:
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        _loopback_only(address)
        return original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _loopback_only(address)
        return original_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign, assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign, assignment]


# --- pytest hooks -----------------------------------------------------------------------------

install_alias()
install_network_guard()


def _location(obj: Any) -> dict[str, Any] | None:
    """Source file and first line of a function or class defined in the suite."""
    try:
        obj = inspect.unwrap(obj)
        path = inspect.getsourcefile(obj)
        line = 0 if inspect.isclass(obj) else obj.__code__.co_firstlineno
    except (TypeError, AttributeError, OSError):
        return None
    if path is None:
        return None
    return {"file": os.path.abspath(path), "line": line, "name": obj.__qualname__}


def pytest_sessionstart(session: pytest.Session) -> None:
    """Record that the alias is in place: one module object under both names."""
    requests_cache = importlib.import_module(SOURCE_PACKAGE)  # resolved by AliasFinder
    requests_cache_like = importlib.import_module(TARGET_PACKAGE)

    _emit(
        {
            "kind": "alias",
            "same_object": requests_cache is requests_cache_like,
            "file": getattr(requests_cache, "__file__", None),
            "version": getattr(requests_cache, "__version__", None),
            "first_finder": type(sys.meta_path[0]).__name__,
            "renamed": dict(RENAMED),
        }
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    root = os.environ.get("RCL_COMPAT_SUITE_ROOT", "")
    for item in items:
        function = getattr(item, "function", None)
        cls = getattr(item, "cls", None)
        classes = []
        if cls is not None:
            for klass in cls.__mro__:
                loc = _location(klass)
                if loc and loc["file"].startswith(root):
                    classes.append(loc)
        fixtures = []
        fixtureinfo = getattr(item, "_fixtureinfo", None)
        for name in getattr(item, "fixturenames", []):
            for fixturedef in fixtureinfo.name2fixturedefs.get(name, ()) if fixtureinfo else ():
                loc = _location(fixturedef.func)
                if loc and loc["file"].startswith(root):
                    fixtures.append(loc)
        params = getattr(getattr(item, "callspec", None), "params", {})
        _emit(
            {
                "kind": "collected",
                "nodeid": item.nodeid,
                "function": _location(function) if function is not None else None,
                "classes": classes,
                "fixtures": fixtures,
                "missing_params": sorted(
                    k for k, v in params.items() if isinstance(v, MissingName)
                ),
            }
        )


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _emit(
            {
                "kind": "collect_error",
                "nodeid": report.nodeid,
                "reason": _crash_line(report.longrepr),
            }
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    _STATE["in_test"] = True
    _STATE["touched"] = []
    try:
        yield
    finally:
        _STATE["in_test"] = False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    params = getattr(getattr(item, "callspec", None), "params", {})
    for value in params.values():
        if isinstance(value, MissingName):
            value._rcl_use()


def _first_line(text: str, limit: int = 200) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _crash_line(longrepr: Any) -> str:
    error_lines = [
        line[1:].strip()
        for line in str(longrepr).splitlines()
        if line.startswith("E ") and line[1:].strip()
    ]
    if error_lines and not getattr(longrepr, "reprcrash", None):
        return _first_line(error_lines[-1])
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return _first_line(str(crash.message))
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return _first_line(str(longrepr[2]))
    return _first_line(str(longrepr))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    touched: list[str] = _STATE["touched"]
    reason = ""
    if touched:
        reason = _first_line(touched[0])
        if report.passed and report.when == "call":
            report.outcome = "failed"
            report.longrepr = f"used a name requests_cache_like lacks: {touched[0]}"
    elif call.excinfo is not None:
        value = call.excinfo.value
        message = _first_line(str(value)) if str(value).strip() else ""
        reason = f"{call.excinfo.typename}: {message}" if message else call.excinfo.typename
        if call.excinfo.typename in {"Skipped", "XFailed"}:
            reason = message
    _emit(
        {
            "kind": "report",
            "nodeid": report.nodeid,
            "when": report.when,
            "outcome": report.outcome,
            "wasxfail": hasattr(report, "wasxfail"),
            "reason": reason,
            "duration": round(report.duration, 3),
        }
    )
