"""Ordinary mistakes at the command line end in one clear line and an exit code, never a traceback.

Each case runs the real ``shop-assistant`` (``python -m assistant.cli`` from this checkout)
as a subprocess on real files in a temporary store, as an operator would.  Exit codes:
2 for a malformed command line or environment value, 1 for a command that could not be done
(``assistant/errors.py``).  None of these cases loads the embedding model.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assistant.settings import PROJECT_ROOT, SECRET_NAMES

DATA = Path(__file__).parent / "data"


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def last_error_line(self) -> str:
        return [line for line in self.err.splitlines() if line.strip()][-1]


def shop_assistant(store: Path, *argv: str, env: dict[str, str] | None = None, stdin: str = "") -> Run:
    """The CLI of this checkout in a child process, with the store's own database and secrets."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SHOP_")}
    environment.update({name: "test-secret-" + name.lower() for name in SECRET_NAMES})
    environment.update({"PYTHONPATH": str(PROJECT_ROOT), "SHOP_DATABASE_URL": f"sqlite:///{store / 'customers.db'}"})
    environment.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "--data-dir", str(store), *argv],
        cwd=store,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store directory beside the bad input files the cases name."""
    (tmp_path / "wrong_columns.csv").write_text("name,cost\nlamp,12\n")
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "binary.jsonl").write_bytes(bytes(range(128, 256)))
    (tmp_path / "not_json.jsonl").write_text('{"customer_id": "c1", "type": "view", "at": "2024-01-01"}\nnot json\n')
    (tmp_path / "bad_lines.csv").write_text(
        "order_id,customer_id,product_id,quantity,ordered_at\n"
        "A1,c1,B001,1,yesterday\nA2,c1,B001,many,2024-01-01\nA3,c1,NOT-IN-CATALOG,1,2024-01-01\n"
    )
    (tmp_path / "a_dir").mkdir()
    (tmp_path / "a_file").write_text("x")
    return tmp_path


@dataclass
class Case:
    argv: tuple[str, ...]
    code: int
    message: str  # in the last line of stderr
    env: dict[str, str] = field(default_factory=dict)
    catalog: str | None = None  # the store's catalog.jsonl content before the run


CASES = {
    "catalog import: missing file": Case(
        ("catalog", "import", "nope.jsonl"), 1, "catalog file nope.jsonl does not exist"
    ),
    "catalog import: a directory": Case(("catalog", "import", "a_dir"), 1, "catalog file a_dir is a directory"),
    "catalog import: wrong columns": Case(
        ("catalog", "import", "wrong_columns.csv"),
        1,
        "no product could be imported from wrong_columns.csv (line 2: missing id",
    ),
    "catalog import: empty file": Case(("catalog", "import", "empty.jsonl"), 1, "no product could be imported"),
    "catalog import: not text": Case(("catalog", "import", "binary.jsonl"), 1, "binary.jsonl is not UTF-8 text"),
    "catalog upsert: missing file": Case(("catalog", "upsert", "nope.csv"), 1, "products file nope.csv does not exist"),
    "build-index: no catalog": Case(("catalog", "build-index", "--quiet"), 1, "no catalog at"),
    "build-index: empty catalog": Case(("catalog", "build-index", "--quiet"), 1, "is empty", catalog="\n"),
    "sync-store: no catalog": Case(("catalog", "sync-store"), 1, "run `shop-assistant catalog import FILE` first"),
    "search: no index yet": Case(("catalog", "search", "boots"), 1, "run `shop-assistant catalog build-index`"),
    "search: no query": Case(("catalog", "search"), 2, "give one QUERY or --queries FILE"),
    "search: empty query": Case(("catalog", "search", ""), 2, "give one QUERY or --queries FILE"),
    "search: missing queries file": Case(
        ("catalog", "search", "--queries", "q.txt"), 1, "queries file q.txt does not exist"
    ),
    "delete: unknown id": Case(("catalog", "delete", "NOPE"), 1, "none of these products is in the catalog: NOPE"),
    "history import: missing file": Case(("history", "import", "nope.csv"), 1, "history file nope.csv does not exist"),
    "history import: directory without history": Case(("history", "import", "a_dir"), 1, "no history files"),
    "history import: wrong columns": Case(
        ("history", "import", "wrong_columns.csv"),
        1,
        "wrong_columns.csv:2: unrecognised history record with fields cost, name",
    ),
    "history import: empty file": Case(("history", "import", "empty.jsonl"), 1, "no records in empty.jsonl"),
    "history import: not text": Case(("history", "import", "binary.jsonl"), 1, "binary.jsonl is not UTF-8 text"),
    "history import: a line not JSON": Case(("history", "import", "not_json.jsonl"), 1, "not_json.jsonl:2: not JSON"),
    "recommend: no customer": Case(("recommend",), 2, "give exactly one of --customer ID or --customers FILE"),
    "recommend: missing customers file": Case(
        ("recommend", "--customers", "ids.txt"), 1, "customers file ids.txt does not exist"
    ),
    "recommend: empty customers file": Case(
        ("recommend", "--customers", "empty.jsonl"), 1, "no customer ids in empty.jsonl"
    ),
    "recommend: no index yet": Case(("recommend", "--customer", "C1"), 1, "run `shop-assistant catalog build-index`"),
    "bad port in the environment": Case(
        ("token", "--customer", "C1"), 2, "SHOP_WEB_PORT='abc' is not a whole number", env={"SHOP_WEB_PORT": "abc"}
    ),
    "bad index setting": Case(
        ("token", "--customer", "C1"),
        2,
        "SHOP_INDEX_QUANTIZER='pq' is not one of flat, sq8",
        env={"SHOP_INDEX_QUANTIZER": "pq"},
    ),
    "bad quiet hours": Case(("nudge", "run", "--dry-run"), 2, "SHOP_QUIET_HOURS", env={"SHOP_QUIET_HOURS": "late"}),
    "database URL that is none": Case(
        ("db", "migrate"), 2, "SHOP_DATABASE_URL is not a database URL", env={"SHOP_DATABASE_URL": "customers"}
    ),
    "database unreachable": Case(
        ("db", "migrate"),
        1,
        "cannot use the customer store at 127.0.0.1:1/shop",
        env={"SHOP_DATABASE_URL": "postgresql://shop:s3cret@127.0.0.1:1/shop"},
    ),
    "promotion date that is none": Case(
        ("promotions", "add", "X", "--title", "T", "--percent", "10", "--starts", "soon"),
        2,
        "'soon' is not an ISO date-time",
    ),
    "store directory is a file": Case(
        ("--data-dir", "a_file", "catalog", "search", "boots"), 2, "is a file; give --data-dir a directory"
    ),
    "unknown command": Case(("catalogue",), 2, "invalid choice: 'catalogue'"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_an_ordinary_mistake_ends_in_one_clear_line(store: Path, case: Case) -> None:
    if case.catalog is not None:
        (store / "catalog.jsonl").write_text(case.catalog)
    run = shop_assistant(store, *case.argv, env=case.env)
    assert run.code == case.code, run.err
    assert "Traceback" not in run.out + run.err
    assert case.message in run.last_error_line, run.err
    assert "s3cret" not in run.out + run.err


def test_debug_shows_the_traceback(store: Path) -> None:
    for flags, env in ((("--debug",), {}), ((), {"SHOP_DEBUG": "1"})):
        run = shop_assistant(store, *flags, "catalog", "sync-store", env=env)
        assert run.code == 1 and "Traceback" in run.err and "UserError: no catalog at" in run.err


def test_history_import_with_only_bad_lines_fails_and_shows_them(store: Path) -> None:
    assert shop_assistant(store, "catalog", "import", str(DATA / "catalog_small.jsonl")).code == 0
    run = shop_assistant(store, "history", "import", "bad_lines.csv")
    assert run.code == 1 and "Traceback" not in run.err
    assert "bad_lines.csv:2: " in run.err and "yesterday" in run.err  # the first bad rows, with line numbers
    assert "bad_lines.csv:3: " in run.err
    assert "NOT-IN-CATALOG" in run.err and "new rows: 0 customers, 0 orders" in run.err  # nothing kept
    assert run.last_error_line == (
        "error: nothing was imported from bad_lines.csv: 2 invalid lines and 1 lines naming products not in the catalog;"
        " fix the lines listed above, and import the catalog first (`shop-assistant catalog import FILE`),"
        " then import it again"
    )


def test_history_import_with_some_good_lines_succeeds_and_lists_the_bad(store: Path) -> None:
    assert shop_assistant(store, "catalog", "import", str(DATA / "catalog_small.jsonl")).code == 0
    mixed = store / "mixed.csv"
    mixed.write_text((store / "bad_lines.csv").read_text() + "A4,c1,B002,2,2024-02-01\n")
    run = shop_assistant(store, "history", "import", "mixed.csv")
    assert run.code == 0, run.err
    assert (
        "skipped 2 invalid lines:\n    mixed.csv:2: bad time 'yesterday'\n    mixed.csv:3: bad quantity 'many'"
        in run.out
    )
    assert "1 order_items" in run.out and "NOT-IN-CATALOG" in run.out


def test_catalog_import_with_some_bad_rows_succeeds_and_lists_them(store: Path) -> None:
    rows = store / "products.csv"
    rows.write_text("id,title,price\nP1,Trail lamp,12.5\n,no id here,3\nP2,,4\nP3,Camp mug,abc\n")
    run = shop_assistant(store, "catalog", "import", "products.csv")
    assert run.code == 0, run.err
    assert run.out.startswith("imported 1 products from products.csv (csv)")
    assert (
        "skipped rows: 3\n  line 3: missing id (or product_id / sku)\n  line 4: product P2 has no title (or name)\n"
        "  line 5: price is not a number: 'abc'"
    ) in run.out
