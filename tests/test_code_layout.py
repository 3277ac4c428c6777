"""Rules of the tree that a reviewer would otherwise have to remember (issue #16 item 6)."""

from __future__ import annotations

import ast
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    """Every module a Python file imports, at any depth (lazy imports inside functions too)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_the_benchmarks_never_import_from_the_tests() -> None:
    """A benchmark shares code with the tests through a package (e.g. ``assistant.rasa_conversation``)."""
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): sorted(m for m in imported_modules(path) if m == "tests" or m.startswith("tests."))
        for path in sorted((PROJECT_ROOT / "bench").rglob("*.py"))
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}


def test_the_rule_sees_an_import_from_the_tests(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f() -> None:\n    from tests.conversation import texts\n", encoding="utf-8")
    assert imported_modules(sample) == {"tests.conversation"}
