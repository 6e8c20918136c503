"""The store is the storage layer: it imports nothing above it, and nothing above it sees SQLAlchemy."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine

import consentry
from consentry.store import SqlStore, Store

SRC = Path(consentry.__file__).parent
STORE = SRC / "store"

#: Layers above the store; none of their modules may be imported from inside it.
ABOVE_STORE = ("consentry.pipeline", "consentry.service", "consentry.cli", "consentry.decide", "consentry.demo")


def _imports(path: Path, root: Path = SRC.parent) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in the file under `root`, relative ones resolved,
    TYPE_CHECKING ones included."""
    package = ".".join(path.relative_to(root).parent.parts)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:  # `from consentry import pipeline` imports the package too
                yield node.lineno, f"{base}.{alias.name}"


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_the_store_imports_nothing_above_it() -> None:
    files = sorted(STORE.rglob("*.py"))
    assert any(f.parent.name == "versions" for f in files), "the migrations are part of the store"
    upward = [
        f"{f.relative_to(SRC.parent)}:{line} imports {name}"
        for f in files
        for line, name in _imports(f)
        if _within(name, ABOVE_STORE)
    ]
    assert upward == []


def test_only_the_store_imports_sqlalchemy() -> None:
    outside = [
        f"{f.relative_to(SRC.parent)}:{line} imports {name}"
        for f in sorted(SRC.rglob("*.py"))
        if not f.is_relative_to(STORE)
        for line, name in _imports(f)
        if _within(name, ("sqlalchemy", "alembic"))
    ]
    assert outside == []


def test_the_checks_see_an_upward_import(tmp_path: Path) -> None:
    """The walk finds absolute, relative and TYPE_CHECKING imports alike (a check that sees nothing proves nothing)."""
    module = STORE / "sql.py"
    fake = tmp_path / "consentry" / "store" / "fake.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(
        "from typing import TYPE_CHECKING\n"
        "from ..pipeline import build\n"
        "from consentry import service\n"
        "if TYPE_CHECKING:\n"
        "    import consentry.decide\n",
        encoding="utf-8",
    )
    names = [name for _, name in _imports(fake, root=tmp_path)]
    assert [n for n in names if _within(n, ABOVE_STORE)] == [
        "consentry.pipeline",
        "consentry.pipeline.build",
        "consentry.service",
        "consentry.decide",
    ]
    assert any(name.startswith("sqlalchemy") for _, name in _imports(module))


def test_the_store_hands_out_no_engine(store: SqlStore) -> None:
    """Other layers reach storage through the protocols only: no public attribute is a SQLAlchemy engine."""
    public = {name: getattr(store, name) for name in dir(store) if not name.startswith("_")}
    assert [name for name, value in public.items() if isinstance(value, Engine)] == []
    assert "engine" not in dir(Store)
