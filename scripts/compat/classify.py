"""Classify requests-cache test items as "public" or "internal" by static analysis.

An item is **internal** when the code it runs from the suite (see "what is scanned") shows any
of these; otherwise it is **public**:

- R1 private attribute: ``obj._name`` (one leading underscore or a mangled ``__name``, not a
  dunder), except on ``self``/``cls`` (the test class's own state).
- R2 private string: a string literal that is a private attribute name (``'_name'``, as passed to
  ``patch.object``, ``monkeypatch.setattr``, ``getattr``...), or a dotted ``requests_cache.`` path
  with a component that starts with ``_``.
- R3 private or internal import: the scanned code uses a name imported (at module level or in
  the function) from a private module (``requests_cache._utils``), a private name
  (``from x import _y``), a module in :data:`INTERNAL_MODULES`, or a name in
  :data:`INTERNAL_NAMES` (requests-cache internals with no public meaning, e.g. CacheActions).
- R4 exact cache key: a string literal of exactly 16 or 64 lower-case hex digits (a
  requests-cache key hash).
- R5 SQL: a string literal containing SQL (``SELECT``, ``INSERT INTO``, ``CREATE TABLE``,
  ``PRAGMA``...), i.e. a test of requests-cache's SQLite schema.

What is scanned for an item: the test function with its decorators; the fixtures it uses that
are defined in the suite (conftest.py included); the non-method statements of its class and of
each suite class in its MRO (``storage_class = ...``); and, transitively, every suite helper it
reaches: ``self.method(...)`` of those classes, and module-level functions, classes, constants
and ``from tests... import`` names referenced by name. A name imported at module level only makes
the items that reference it internal, not the whole module.

A module that fails to collect is one item (its path), classified by the same rules applied to
its failing import. :data:`OVERRIDES` (fnmatch patterns over item ids) wins over the rules; every
entry carries its reason.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PUBLIC = "public"
INTERNAL = "internal"

#: requests-cache modules that only hold internals.
INTERNAL_MODULES: dict[str, str] = {
    "requests_cache.policy.actions": "requests-cache's internal per-request decision logic",
}
#: requests-cache names that are internals with no public meaning.
INTERNAL_NAMES: dict[str, str] = {
    "CacheActions": "requests-cache's internal per-request decision object",
    "METHOD_OVERRIDE_HEADERS": "constant of requests-cache's CacheActions internals",
}
#: Item id pattern (fnmatch) -> (class, reason), for items the rules get wrong.
OVERRIDES: dict[str, tuple[str, str]] = {
    "tests/integration/test_*.py::Test*Cache::test_decode_gzip_response": (
        PUBLIC,
        "R1 only because it sets urllib3's response.raw._fp to replay the body; what it asserts "
        "is public (CachedResponse.from_response, .content, .raw.read(decode_content=True))",
    ),
}

_HEX_KEY = re.compile(r"[0-9a-f]{16}|[0-9a-f]{64}")
_SQL = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|CREATE\s+(TABLE|INDEX)|PRAGMA\s|"
    r"DELETE\s+FROM|DROP\s+TABLE|UPDATE\s+\w+\s+SET)\b",
    re.DOTALL,
)
_PRIVATE_ATTR_STRING = re.compile(r"_[A-Za-z0-9]\w*")
_USES = "uses:"  # internal marker: a requests_cache name the item reaches


def is_private(name: str) -> bool:
    """``_x`` or ``__x``, but not a dunder such as ``__init__``."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def import_evidence(module: str, name: str | None) -> str | None:
    """Why importing ``name`` from requests-cache module ``module`` makes a test internal."""
    if module != "requests_cache" and not module.startswith("requests_cache."):
        return None
    parts = module.split(".")
    if any(is_private(part) for part in parts):
        return f"R3 imports from private module {module}"
    if module in INTERNAL_MODULES:
        return f"R3 imports from {module} ({INTERNAL_MODULES[module]})"
    if name is not None and is_private(name):
        return f"R3 imports private name {module}.{name}"
    if name is not None and name in INTERNAL_NAMES:
        return f"R3 uses {name} ({INTERNAL_NAMES[name]})"
    return None


def string_evidence(value: str) -> str | None:
    """Why a string literal in a test makes it internal."""
    if _PRIVATE_ATTR_STRING.fullmatch(value) and is_private(value):
        return f"R2 names private attribute {value!r}"
    if value.startswith("requests_cache.") and any(is_private(part) for part in value.split(".")):
        return f"R2 patches private path {value!r}"
    if _HEX_KEY.fullmatch(value):
        return f"R4 hard-coded cache key {value!r}"
    if _SQL.search(value):
        return f"R5 SQL string {value[:40]!r}"
    return None


@dataclass
class ModuleInfo:
    """A parsed suite module and its top-level bindings."""

    path: Path
    dotted: str
    tree: ast.Module
    bindings: dict[str, list[ast.AST]] = field(default_factory=dict)
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)


class SuiteIndex:
    """Parses suite modules on demand and finds the evidence reachable from a node."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.modules: dict[Path, ModuleInfo] = {}

    def module(self, path: Path) -> ModuleInfo | None:
        path = path.resolve()
        if path in self.modules:
            return self.modules[path]
        try:
            relative = path.relative_to(self.root)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (ValueError, OSError, SyntaxError):
            return None
        info = ModuleInfo(path, ".".join(relative.with_suffix("").parts), tree)
        for node in tree.body:
            self._bind(info, node)
        self.modules[path] = info
        return info

    def _bind(self, info: ModuleInfo, node: ast.stmt) -> None:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                info.imports[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                info.imports[alias.asname or alias.name.split(".")[0]] = (alias.name, None)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            info.bindings.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        info.bindings.setdefault(name.id, []).append(node)
        elif isinstance(node, ast.Try | ast.If | ast.With):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    self._bind(info, child)
                elif isinstance(child, ast.ExceptHandler):
                    for grandchild in child.body:
                        self._bind(info, grandchild)

    def module_by_dotted(self, dotted: str) -> ModuleInfo | None:
        base = self.root.joinpath(*dotted.split("."))
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.exists():
                return self.module(candidate)
        return None

    def find_function(self, path: Path, line: int, name: str) -> ast.AST | None:
        info = self.module(path)
        if info is None:
            return None
        short = name.rsplit(".", 1)[-1]
        for node in ast.walk(info.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == short:
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                if line in (first, node.lineno):
                    return node
        return None

    def find_class(self, path: Path, qualname: str) -> ast.ClassDef | None:
        info = self.module(path)
        if info is None:
            return None
        scope: list[ast.stmt] = info.tree.body
        found: ast.ClassDef | None = None
        for part in qualname.split("."):
            found = next((n for n in scope if isinstance(n, ast.ClassDef) and n.name == part), None)
            if found is None:
                return None
            scope = found.body
        return found

    # --- evidence --------------------------------------------------------------------------

    def evidence(
        self, path: Path, node: ast.AST, classes: list[tuple[Path, ast.ClassDef]], seen: set[Any]
    ) -> set[str]:
        """Evidence in ``node`` (from module ``path``) and in the suite code it reaches."""
        key = (path.resolve(), id(node))
        if key in seen:
            return set()
        seen.add(key)
        info = self.module(path)
        found: set[str] = set()
        ignored = _ignored_strings(node)
        for child in ast.walk(node):
            if isinstance(child, ast.Attribute):
                base = child.value
                own = isinstance(base, ast.Name) and base.id in {"self", "cls"}
                if is_private(child.attr) and not own:
                    found.add(f"R1 private attribute .{child.attr}")
                if own and classes:
                    for method_path, method in self._methods(classes, child.attr):
                        found |= self.evidence(method_path, method, classes, seen)
            elif (
                isinstance(child, ast.Constant)
                and isinstance(child.value, str)
                and id(child) not in ignored
            ):
                reason = string_evidence(child.value)
                if reason:
                    found.add(reason)
            elif isinstance(child, ast.ImportFrom) and child.module and child is not node:
                for alias in child.names:
                    reason = import_evidence(child.module, alias.name)
                    if reason:
                        found.add(reason)
            elif isinstance(child, ast.Name) and info is not None and child is not node:
                found |= self._name_evidence(info, child.id, classes, seen)
        return found

    def _name_evidence(
        self,
        info: ModuleInfo,
        name: str,
        classes: list[tuple[Path, ast.ClassDef]],
        seen: set[Any],
    ) -> set[str]:
        found: set[str] = set()
        if name in info.imports:
            module, original = info.imports[name]
            reason = import_evidence(module, original)
            if reason:
                found.add(reason)
            if original is not None and module.split(".")[0] == "requests_cache":
                found.add(f"{_USES}{module}.{original}")
            if original is not None and (module == "tests" or module.startswith("tests.")):
                target = self.module_by_dotted(module)
                if target is not None:
                    found |= self._name_evidence(target, original, [], seen)
        for bound in info.bindings.get(name, []):
            found |= self.evidence(info.path, bound, classes, seen)
        return found

    @staticmethod
    def _methods(classes: list[tuple[Path, ast.ClassDef]], name: str) -> list[tuple[Path, ast.AST]]:
        """The method ``name`` as the MRO resolves it (first class that defines it)."""
        for path, klass in classes:
            for stmt in klass.body:
                if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name == name:
                    return [(path, stmt)]
        return []


def _ignored_strings(node: ast.AST) -> set[int]:
    """Ids of string constants that are not values: docstrings and f-string fragments."""
    ignored: set[int] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module):
            first = child.body[0] if child.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ignored.add(id(first.value))
        elif isinstance(child, ast.JoinedStr):
            ignored.update(id(part) for part in child.values if isinstance(part, ast.Constant))
    return ignored


def _class_body_statements(klass: ast.ClassDef) -> list[ast.AST]:
    statements: list[ast.AST] = [*klass.bases, *klass.decorator_list]
    statements += [
        stmt
        for stmt in klass.body
        if not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    return statements


def classify_item(index: SuiteIndex, record: dict[str, Any]) -> tuple[str, list[str], set[str]]:
    """Class, reasons, and the requests_cache names reached, for one ``collected`` record
    written by the plugin."""
    classes: list[tuple[Path, ast.ClassDef]] = []
    for loc in record.get("classes", []):
        klass = index.find_class(Path(loc["file"]), loc["name"])
        if klass is not None:
            classes.append((Path(loc["file"]), klass))
    seen: set[Any] = set()
    found: set[str] = set()
    function = record.get("function")
    if function:
        node = index.find_function(Path(function["file"]), function["line"], function["name"])
        if node is not None:
            found |= index.evidence(Path(function["file"]), node, classes, seen)
    for path, klass in classes:
        for stmt in _class_body_statements(klass):
            found |= index.evidence(path, stmt, classes, seen)
    for loc in record.get("fixtures", []):
        node = index.find_function(Path(loc["file"]), loc["line"], loc["name"])
        if node is not None:
            found |= index.evidence(Path(loc["file"]), node, [], seen)
    uses = {reason[len(_USES) :] for reason in found if reason.startswith(_USES)}
    reasons = sorted(found - {_USES + name for name in uses})
    override = find_override(record["nodeid"])
    if override is not None:
        return override[0], [f"override: {override[1]}"], uses
    return (INTERNAL if reasons else PUBLIC), reasons, uses


_IMPORT_ERROR = re.compile(
    r"cannot import name '(?P<name>\w+)' from '(?P<module>[\w.]+)'"
    r"|No module named '(?P<mod>[\w.]+)'"
)


def classify_collect_error(nodeid: str, reason: str) -> tuple[str, list[str]]:
    """A module that failed to collect: classified by the import that failed, if any."""
    override = find_override(nodeid)
    if override is not None:
        return override[0], [f"override: {override[1]}"]
    match = _IMPORT_ERROR.search(reason)
    if match:
        module = match.group("module") or match.group("mod")
        evidence = import_evidence(module, match.group("name"))
        if evidence:
            return INTERNAL, [evidence]
    return PUBLIC, []


def find_override(nodeid: str) -> tuple[str, str] | None:
    for pattern, verdict in OVERRIDES.items():
        if fnmatch.fnmatchcase(nodeid, pattern):
            return verdict
    return None
