"""The third-party modules a Glue job script can import, following the code that can run.

A Glue job runs on Glue's own Python, with Glue's preinstalled modules plus what the job's
arguments install, so every module its code imports must be one of those. Walking every import in
every module a job touches would ask for PostgreSQL drivers and web frameworks that no job
calls; walking only import-time imports would miss the function-level ones that do run (the jobs
import their pipeline inside the function that runs it). So this walks reachable code: a
module's import-time statements, and a function or class once a name, an ``alias.name`` or a
``from`` import refers to it from code already reached, or a string names it as the source registry
does (``"datalake.transforms.ree:demand_rows"``, imported when called). Calls through objects cannot
be followed statically; a class that is reached brings all its methods, which covers them.

:func:`job_imports` returns each third-party top-level module with the chain that reaches it,
so a failure says why the job needs it.
"""

from __future__ import annotations

import ast
import hashlib
import re
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from datalake.deploy.templates import REPO_ROOT

#: The package the jobs import; everything else that is not the standard library is third-party.
PACKAGE = "datalake"
_OPTIONAL_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception"}
#: A code reference as the source registry writes them (``"datalake.transforms.ree:demand_rows"``).
_CODE_REFERENCE = re.compile(rf"(?P<module>{PACKAGE}(?:\.\w+)+):(?P<name>\w+)")


@dataclass(frozen=True)
class ImportUse:
    """A third-party module a job can import, and the reached code that imports it."""

    module: str
    chain: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.module} (via {' -> '.join(self.chain)})"


@dataclass
class _Module:
    name: str
    tree: ast.Module
    is_package: bool
    definitions: dict[str, ast.AST] = field(default_factory=dict)
    bindings: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # name -> (module, attr)
    #: The walked nodes of each unit ("" for import time, else a definition), computed once.
    walks: dict[str, list[tuple[ast.AST, bool]]] = field(default_factory=dict)

    def walked(self, unit: str) -> list[tuple[ast.AST, bool]]:
        """The nodes of ``unit`` (:func:`_walk`) that can import or refer: imports, loaded names,
        ``name.attr`` and string constants; import time for ``""``."""
        if unit not in self.walks:
            nodes = _import_time_nodes(self.tree) if not unit else [self.definitions[unit]]
            self.walks[unit] = [
                (node, optional)
                for node, optional in _walk(nodes)
                if isinstance(node, ast.Import | ast.ImportFrom)
                or (isinstance(node, ast.Constant) and isinstance(node.value, str))
                or (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load))
                or (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name))
            ]
        return self.walks[unit]


#: Parsed modules by name, kind and source text: a check follows nine jobs twice each (the tree,
#: then each job's packaged copy) through mostly the same modules; parsing and walking them again
#: took a minute.
_LOADED: dict[tuple[str, bool, str], _Module] = {}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _guards_import_errors(node: ast.Try) -> bool:
    names = set()
    for handler in node.handlers:
        caught = handler.type
        items = caught.elts if isinstance(caught, ast.Tuple) else [caught]
        names |= {item.id for item in items if isinstance(item, ast.Name)}
    return bool(names & _OPTIONAL_IMPORT_ERRORS)


def _walk(nodes: list[ast.AST], optional: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    """Every node under ``nodes`` with whether an ``except ImportError`` guards it, skipping
    ``if TYPE_CHECKING:`` blocks (they never run)."""
    for node in nodes:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _walk(node.orelse, optional)
            continue
        if isinstance(node, ast.Try):
            guarded = optional or _guards_import_errors(node)
            yield from _walk(node.body, guarded)
            yield from _walk([*node.handlers, *node.orelse, *node.finalbody], optional)
            continue
        yield node, optional
        yield from _walk(list(ast.iter_child_nodes(node)), optional)


def _import_time_nodes(tree: ast.Module) -> list[ast.AST]:
    """What runs when a module is imported: its statements, without function and method bodies."""
    nodes: list[ast.AST] = []

    def signature(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
        return [*function.decorator_list, *function.args.defaults, *function.args.kw_defaults]

    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            nodes += [n for n in signature(statement) if n is not None]
        elif isinstance(statement, ast.ClassDef):
            nodes += [*statement.decorator_list, *statement.bases, *statement.keywords]
            for item in statement.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    nodes += [n for n in signature(item) if n is not None]
                else:
                    nodes.append(item)
        else:
            nodes.append(statement)
    return nodes


class _Reach:
    """Breadth-first over reachable units: ``(module, "")`` for import time, ``(module, name)``
    for a top-level function or class."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: dict[str, _Module | None] = {}
        self.parent: dict[tuple[str, str], tuple[str, str] | None] = {}
        self.queue: deque[tuple[str, str]] = deque()
        self.found: dict[str, tuple[str, ...]] = {}
        self.missing: dict[str, tuple[str, ...]] = {}  # modules of the package imported, not there

    # -- modules of the package ---------------------------------------------------------------
    def module(self, name: str) -> _Module | None:
        if name not in self.modules:
            base = self.root / Path(*name.split("."))
            path, is_package = (
                (base / "__init__.py", True)
                if (base / "__init__.py").is_file()
                else (base.with_suffix(".py"), False)
            )
            self.modules[name] = self._load(name, path, is_package) if path.is_file() else None
        return self.modules[name]

    def _load(self, name: str, path: Path, is_package: bool) -> _Module:
        text = path.read_text(encoding="utf-8")
        key = (name, is_package, hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest())
        if key in _LOADED:
            return _LOADED[key]
        tree = ast.parse(text, str(path))
        module = _Module(name, tree, is_package)
        for statement in tree.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                module.definitions[statement.name] = statement
        for node, _optional in module.walked(""):
            module.bindings.update(self._bound_names(node, module))
        _LOADED[key] = module
        return module

    def _absolute(self, node: ast.ImportFrom, module: _Module) -> str:
        if not node.level:
            return node.module or ""
        parts = module.name.split(".")
        base = parts if module.is_package else parts[:-1]
        base = base[: len(base) - (node.level - 1)]
        return ".".join([*base, *([node.module] if node.module else [])])

    def _bound_names(self, node: ast.AST, module: _Module) -> dict[str, tuple[str, str | None]]:
        if isinstance(node, ast.Import):
            return {(a.asname or a.name.split(".")[0]): (a.name if a.asname else a.name.split(".")[0], None)
                    for a in node.names}  # fmt: skip
        if isinstance(node, ast.ImportFrom):
            source = self._absolute(node, module)
            return {(a.asname or a.name): (source, a.name) for a in node.names if a.name != "*"}
        return {}

    # -- reaching ------------------------------------------------------------------------------
    def reach(self, unit: tuple[str, str], source: tuple[str, str] | None) -> None:
        if unit in self.parent:
            return
        self.parent[unit] = source
        self.queue.append(unit)

    def reach_module(self, name: str, source: tuple[str, str] | None) -> None:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
            prefix = ".".join(parts[:i])
            if self.module(prefix) is not None:
                self.reach((prefix, ""), source)
            elif prefix.split(".")[0] == PACKAGE:
                self.missing.setdefault(prefix, self.chain(source))

    def reach_name(self, module_name: str, name: str, source: tuple[str, str], seen: int = 0) -> None:
        """``from module_name import name``: a submodule, a definition, or a name re-exported."""
        if self.module(f"{module_name}.{name}") is not None:
            self.reach_module(f"{module_name}.{name}", source)
            return
        self.reach_module(module_name, source)
        module = self.module(module_name)
        if module is None:
            return
        if name in module.definitions:
            self.reach((module_name, name), source)
        elif name in module.bindings and seen < 20:
            target, attr = module.bindings[name]
            self.follow(target, attr, source, seen + 1)

    def follow(self, target: str, attr: str | None, source: tuple[str, str], seen: int = 0) -> None:
        top = target.split(".")[0]
        if top == PACKAGE:
            if attr is None:
                self.reach_module(target, source)
            else:
                self.reach_name(target, attr, source, seen)
        elif top and top not in sys.stdlib_module_names and top != "__future__":
            self.found.setdefault(top, self.chain(source))

    def chain(self, unit: tuple[str, str] | None) -> tuple[str, ...]:
        steps = []
        while unit is not None:
            module, name = unit
            steps.append(f"{module}:{name}" if name else module)
            unit = self.parent[unit]
        return tuple(reversed(steps))

    def run(self) -> None:
        while self.queue:
            unit = self.queue.popleft()
            module = self.module(unit[0])
            if module is None:
                continue
            local: dict[str, tuple[str, str | None]] = {}
            walked = module.walked(unit[1])
            for node, optional in walked:  # imports first: a function's own imports bind its names
                bound = self._bound_names(node, module)
                local.update(bound)
                if optional:
                    continue
                for target, attr in bound.values():
                    if target.split(".")[0] == PACKAGE:
                        self.follow(target, attr, unit)
                    else:
                        self.follow(target, None, unit)
            for node, _optional in walked:
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    reference = _CODE_REFERENCE.fullmatch(node.value)
                    if reference:  # CodeRef("datalake.x:f"): imported when the registry calls it
                        self.reach_name(reference["module"], reference["name"], unit)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    self._refer(node.id, module, local, unit)
                elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                    binding = local.get(node.value.id) or module.bindings.get(node.value.id)
                    if binding and binding[1] is None and binding[0].split(".")[0] == PACKAGE:
                        self.reach_name(binding[0], node.attr, unit)
                    elif binding and binding[1] is not None and binding[0].split(".")[0] == PACKAGE:
                        submodule = f"{binding[0]}.{binding[1]}"
                        if self.module(submodule) is not None:
                            self.reach_name(submodule, node.attr, unit)

    def _refer(
        self, name: str, module: _Module, local: dict[str, tuple[str, str | None]], unit: tuple[str, str]
    ) -> None:
        if name in local:
            return  # imports were followed above
        if name in module.definitions:
            self.reach((module.name, name), unit)


def _reach_job(script: Path, package_root: Path) -> _Reach:
    reach = _Reach(package_root)
    name = f"__job__.{script.stem}"
    reach.modules[name] = reach._load(name, script, is_package=False)
    reach.reach((name, ""), None)
    reach.run()
    return reach


def job_imports(script: Path, package_root: Path = REPO_ROOT) -> list[ImportUse]:
    """The third-party top-level modules that the Glue job ``script`` can import.

    Parameters
    ----------
    script
        A ``glue_jobs/*.py`` file; its import-time code is the entry point (its ``__main__``
        block calls ``main``).
    package_root
        The folder holding the ``datalake`` package.

    Returns
    -------
    list[ImportUse]
        One per module, sorted, each with the chain of reached code that imports it first.
        Imports guarded by ``except ImportError`` and ``if TYPE_CHECKING:`` are left out.
    """
    reach = _reach_job(script, package_root)
    return [ImportUse(module, chain) for module, chain in sorted(reach.found.items())]


def missing_package_modules(script: Path, package_root: Path) -> list[ImportUse]:
    """The ``datalake`` modules that ``script`` imports and ``package_root`` lacks (a packaged copy
    missing a module, or a folder without ``__init__.py``), each with the chain that imports it."""
    reach = _reach_job(script, package_root)
    return [ImportUse(module, chain) for module, chain in sorted(reach.missing.items())]
