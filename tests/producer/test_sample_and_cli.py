"""The bundled sample dataset, ``parallelprompt ingest``, and the progress display."""

from __future__ import annotations

import collections
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

from parallelprompt.producer.plan import sample_dir, sample_files
from parallelprompt.producer.progress import Progress
from parallelprompt.producer.schemas import LMSYS_SCHEMA, WILDCHAT_SCHEMA
from parallelprompt.settings import Settings
from tests.producer.conftest import ingest_sync, query

ROOT = Path(__file__).resolve().parents[2]
CANONICAL = {
    "Repeated Generation",
    "Reading Comprehension",
    "Keyword Extraction",
    "Named Entity Recognition",
    "Translation",
    "Language Correction",
    "Sentiment Analysis",
}


def manifest() -> list[dict[str, object]]:
    data: list[dict[str, object]] = json.loads((sample_dir() / "manifest.json").read_text("utf-8"))
    return data


def test_sample_files_have_the_real_schemas() -> None:
    lmsys, wildchat = sample_files()
    assert pq.ParquetFile(lmsys).schema_arrow.equals(LMSYS_SCHEMA)
    assert pq.ParquetFile(wildchat).schema_arrow.equals(WILDCHAT_SCHEMA)


def test_sample_content_covers_what_it_promises() -> None:
    m = manifest()
    assert len(m) >= 400
    kinds = collections.Counter(e["kind"] for e in m)
    assert {"parallel", "novel", "negative", "shared", "edge"} <= set(kinds)
    categories = collections.Counter(e["category"] for e in m if e["kind"] == "parallel")
    assert set(categories) == CANONICAL and min(categories.values()) >= 10
    languages = {e["language"] for e in m}
    assert {"English", "Chinese", "Spanish", "French", "German", "Russian", "Portuguese",
            "Japanese"} <= languages  # fmt: skip
    assert kinds["negative"] >= 50 and kinds["novel"] >= 10
    per_file = collections.Counter(e["dataset"] for e in m)
    assert per_file["lmsys"] >= 150 and per_file["wildchat"] >= 150


def test_sample_ingest_matches_the_manifest(
    make_settings: Callable[..., Settings], db_path: Path
) -> None:
    s = ingest_sync(make_settings(), progress=False)
    m = manifest()
    expected = collections.Counter(e["expect"] for e in m)
    assert s.rows_read == len(m)
    assert s.kept == expected["kept"]
    assert {k: v for k, v in expected.items() if k != "kept"} == s.skipped
    assert s.sources == ("sample/lmsys-chat-1m", "sample/WildChat-1M")
    assert s.duplicates > 50  # shared and recurring prompts
    shared = query(
        db_path,
        "SELECT count(DISTINCT s.source) FROM sources s JOIN work w ON w.id = s.work_id "
        "WHERE w.prompt = 'Give me 5 slogans for a coffee shop.'",
    )
    assert shared == [(2,)]
    names = query(db_path, "SELECT count(*) FROM work WHERE prompt LIKE '%NAME_1%'")[0][0]
    assert names >= 5


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parallelprompt", "ingest", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_parallelprompt_ingest_on_the_sample(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    first = run_cli("--db", str(db))
    assert first.returncode == 0, first.stderr
    assert "rows read" in first.stdout and "new unique prompts" in first.stdout
    again = run_cli("--db", str(db), "--quiet")
    assert again.returncode == 0 and "nothing new" in again.stdout
    assert again.stderr == ""


def test_parallelprompt_ingest_user_errors(tmp_path: Path) -> None:
    missing = run_cli("--db", str(tmp_path / "x.db"), "--data-files", str(tmp_path / "nope"))
    assert missing.returncode != 0
    assert missing.stderr.strip().count("\n") == 0 and "no such file" in missing.stderr
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    broken = run_cli("--db", str(tmp_path / "x.db"), "--data-files", str(bad))
    assert broken.returncode != 0 and "bad.parquet" in broken.stderr
    assert not (tmp_path / "x.db").exists()


def test_progress_plain_lines_and_tty() -> None:
    now = [0.0]
    out = io.StringIO()
    p = Progress(enabled=True, stream=out, clock=lambda: now[0])
    p.update(10, 5, 4)  # too soon: nothing
    now[0] = 6.0
    p.update(60_000, 50_000, 40_000)
    p.close()
    assert out.getvalue() == (
        "ingest: 60,000 rows read (10,000 rows/s), 50,000 kept, 40,000 new prompts\n"
    )
    quiet = io.StringIO()
    Progress(enabled=False, stream=quiet).update(1, 1, 1, force=True)
    assert quiet.getvalue() == ""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    t = Progress(enabled=True, stream=tty, clock=lambda: now[0])
    now[0] = 8.0
    t.update(100, 90, 80, force=True)
    t.close()
    assert tty.getvalue().startswith("\ringest: 100 rows read") and tty.getvalue().endswith("\n")
