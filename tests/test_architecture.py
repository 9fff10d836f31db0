"""The rules of docs/architecture.md, read from the code's syntax trees: who commits, and which way imports run.

- Views and CLI commands do not commit: a view module (any views.py, and any module that registers routes on a
  blueprint, as the admin's area modules do) calls no `.commit()`, nor does a function registered as a command.
- A feature never imports another feature's view modules.
- A shared module (petition_app/*.py) imports no feature package; __init__.py and cli.py wire the features together.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "petition_app"
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}
WIRING = {"petition_app/__init__.py", "petition_app/cli.py"}
NOT_FEATURES = {"models"}  # subpackages every layer may use


@dataclass(frozen=True)
class Module:
    path: str  # relative to the repository, e.g. "petition_app/admin/images.py"
    name: str  # dotted, e.g. "petition_app.admin.images"
    tree: ast.Module


def module(path: str, source: str) -> Module:
    """A module from its path in the repository and its source."""
    name = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    return Module(path, name, ast.parse(source, filename=path))


def package_modules() -> list[Module]:
    return [module(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8"))
            for p in sorted(PACKAGE.rglob("*.py"))]


def features(modules: list[Module]) -> set[str]:
    return {m.name.split(".")[1] for m in modules if m.path.count("/") >= 2} - NOT_FEATURES


# -- who commits ---------------------------------------------------------------------------------------------------

def _decorator_name(decorator: ast.expr) -> str | None:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return target.attr if isinstance(target, ast.Attribute) else None


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def registers_routes(mod: Module) -> bool:
    return any(_decorator_name(d) in ROUTE_DECORATORS for f in _functions(mod.tree) for d in f.decorator_list)


def is_view_module(mod: Module) -> bool:
    return mod.path.endswith("/views.py") or registers_routes(mod)


def _commit_lines(node: ast.AST) -> list[int]:
    return sorted(n.lineno for n in ast.walk(node) if isinstance(n, ast.Call)
                  and isinstance(n.func, ast.Attribute) and n.func.attr == "commit")


def commits_in_views_and_commands(modules: list[Module]) -> list[str]:
    found = []
    for mod in modules:
        if is_view_module(mod):
            found += [f"{mod.path}:{line}: a view module commits (move the unit of work into a service that commits)"
                      for line in _commit_lines(mod.tree)]
            continue
        for function in _functions(mod.tree):
            if any(_decorator_name(d) == "command" for d in function.decorator_list):
                found += [f"{mod.path}:{line}: the command {function.name} commits (call a service that commits)"
                          for line in _commit_lines(function)]
    return found


# -- imports -------------------------------------------------------------------------------------------------------

def imports(mod: Module) -> list[tuple[int, str, str]]:
    """Every module the module imports (at the top or inside functions) as (line, dotted name, statement); for
    `from a import b` both `a` and `a.b` (b may be a module)."""
    found = []
    package = mod.name if mod.path.endswith("/__init__.py") else mod.name.rpartition(".")[0]
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, ast.unparse(node)) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package upwards
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            statement = ast.unparse(node)
            found.append((node.lineno, base, statement))
            found += [(node.lineno, f"{base}.{alias.name}", statement) for alias in node.names]
    return found


def _feature_of(dotted: str, known: set[str]) -> str | None:
    parts = dotted.split(".")
    return parts[1] if len(parts) >= 2 and parts[0] == "petition_app" and parts[1] in known else None


def _in_a_feature(mod: Module, known: set[str]) -> str | None:
    return _feature_of(mod.name, known) if mod.path.count("/") >= 2 else None


def feature_imports_of_other_features_views(modules: list[Module]) -> list[str]:
    known = features(modules)
    views = {m.name for m in modules if is_view_module(m)}
    found = []
    for mod in modules:
        own = _in_a_feature(mod, known)
        if own is None:
            continue
        for line, target, statement in imports(mod):
            other = _feature_of(target, known)
            if target in views and other != own:
                found.append(f"{mod.path}:{line}: `{statement}`: the feature {own} imports {target}, "
                             f"a view module of the feature {other}")
    return found


def shared_modules_importing_features(modules: list[Module]) -> list[str]:
    known = features(modules)
    found = []
    for mod in modules:
        if mod.path.count("/") != 1 or mod.path in WIRING:
            continue
        by_line: dict[int, str] = {}  # one finding per import statement
        for line, target, statement in imports(mod):
            feature = _feature_of(target, known)
            if feature is not None:
                by_line[line] = f"{mod.path}:{line}: `{statement}`: the shared module imports the feature {feature}"
        found += [by_line[line] for line in sorted(by_line)]
    return found


# -- the rules hold in the package ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def modules() -> list[Module]:
    return package_modules()


def test_the_package_has_view_modules_commands_and_features_to_check(modules):
    views = {m.path for m in modules if is_view_module(m)}
    assert {"petition_app/campaigns/views.py", "petition_app/admin/images.py", "petition_app/admin/mailings.py",
            "petition_app/admin/settings.py", "petition_app/admin/translations.py",
            "petition_app/admin/organisation_details.py"} <= views
    assert "petition_app/admin/accounts.py" not in views  # the accounts' rules: a service of the admin
    commands = {f.name for m in modules for f in _functions(m.tree)
                if any(_decorator_name(d) == "command" for d in f.decorator_list)}
    assert {"load_command", "bulk_signatures_command"} <= commands
    assert {"admin", "campaigns", "signing", "starter", "pages", "demo"} <= features(modules)


def test_no_view_module_or_cli_command_commits(modules):
    found = commits_in_views_and_commands(modules)
    assert not found, "Services commit; views and CLI commands do not:\n" + "\n".join(found)


def test_no_feature_imports_another_features_views(modules):
    found = feature_imports_of_other_features_views(modules)
    assert not found, "A feature never imports another feature's views:\n" + "\n".join(found)


def test_no_shared_module_imports_a_feature(modules):
    found = shared_modules_importing_features(modules)
    assert not found, "A shared module imports no feature package:\n" + "\n".join(found)


# -- each check finds what it is for ------------------------------------------------------------------------------

PACKAGE_SKELETON = {
    "petition_app/__init__.py": "from petition_app.campaigns.views import bp\n",
    "petition_app/cli.py": "from petition_app.demo import loader\n",
    "petition_app/models/__init__.py": "",
    "petition_app/campaigns/__init__.py": "",
    "petition_app/campaigns/service.py": "def create(db):\n    db.session.commit()\n",
    "petition_app/admin/__init__.py": "",
    "petition_app/demo/__init__.py": "",
}


def _with(path: str, source: str) -> list[Module]:
    return [module(p, s) for p, s in {**PACKAGE_SKELETON, path: source}.items()]


def test_a_commit_in_a_view_module_is_named_by_file_and_line():
    source = ("from petition_app.admin import bp\n\n\n@bp.post('/x')\ndef x(db):\n"
              "    db.session.add(1)\n    db.session.commit()\n")
    assert commits_in_views_and_commands(_with("petition_app/admin/things.py", source)) == [
        "petition_app/admin/things.py:7: a view module commits (move the unit of work into a service that commits)"]
    assert commits_in_views_and_commands(_with("petition_app/pages/views.py", "def f(s):\n    s.commit()\n")) == [
        "petition_app/pages/views.py:2: a view module commits (move the unit of work into a service that commits)"]


def test_a_commit_in_a_cli_command_is_named_by_file_and_line():
    source = ("import click\n\n\n@click.group()\ndef users():\n    pass\n\n\n@users.command('add')\n"
              "def add_command(db):\n    db.session.commit()\n\n\ndef helper(db):\n    db.session.commit()\n")
    assert commits_in_views_and_commands(_with("petition_app/admin/cli.py", source)) == [
        "petition_app/admin/cli.py:11: the command add_command commits (call a service that commits)"]


def test_a_commit_in_a_service_is_allowed():
    assert commits_in_views_and_commands(_with("petition_app/campaigns/lifecycle.py",
                                               "def close(db):\n    db.session.commit()\n")) == []


def test_a_feature_importing_another_features_views_is_named_by_file_and_line():
    views = "from flask import Blueprint\n\nbp = Blueprint('c', __name__)\n"
    mods = [*_with("petition_app/campaigns/views.py", views),
            module("petition_app/admin/helpers.py", "import os\n\n\ndef f():\n    from petition_app.campaigns import views\n")]
    assert feature_imports_of_other_features_views(mods) == [
        "petition_app/admin/helpers.py:5: `from petition_app.campaigns import views`: the feature admin imports "
        "petition_app.campaigns.views, a view module of the feature campaigns"]
    relative = module("petition_app/admin/forms.py", "from ..campaigns import views\n")
    assert feature_imports_of_other_features_views([*_with("petition_app/campaigns/views.py", views), relative]) == [
        "petition_app/admin/forms.py:1: `from ..campaigns import views`: the feature admin imports "
        "petition_app.campaigns.views, a view module of the feature campaigns"]
    own = module("petition_app/campaigns/queries.py", "from petition_app.campaigns.views import bp\n")
    assert feature_imports_of_other_features_views([*_with("petition_app/campaigns/views.py", views), own]) == []


def test_a_shared_module_importing_a_feature_is_named_by_file_and_line():
    mods = _with("petition_app/counts.py", "from petition_app import models\nfrom petition_app.campaigns import service\n")
    assert shared_modules_importing_features(mods) == [
        "petition_app/counts.py:2: `from petition_app.campaigns import service`: the shared module imports the "
        "feature campaigns"]
    assert shared_modules_importing_features(_with("petition_app/stats.py", "import petition_app.demo.bulk\n")) == [
        "petition_app/stats.py:1: `import petition_app.demo.bulk`: the shared module imports the feature demo"]
