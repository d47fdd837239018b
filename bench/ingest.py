"""Ingest benchmark: 1M synthetic LMSYS-layout conversations, end to end.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--out bench/out] [--keep]

Generates a Parquet file with the real LMSYS-Chat-1M schema (nested ``conversation`` and
``openai_moderation`` columns, 1-3 turns, ~30 % duplicate prompts, a few short and blank
ones) in chunks, then runs the ingest twice in a fresh subprocess each (so the generator's
memory is not counted): the first fills an empty database, the second must add nothing.
Prints conversations/s and each run's peak RSS. Bar: >= 50,000 conversations/s and peak RSS
<= 1 GiB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from parallelprompt.producer.schemas import LMSYS_SCHEMA, MODERATION_CATEGORIES  # noqa: E402
from parallelprompt.producer.settings import IngestSettings  # noqa: E402

BAR_ROWS_PER_S = 50_000
BAR_RSS_MIB = 1024
CHUNK = 100_000
DUP_RATE = 0.30

TEMPLATES = (
    "Give me 5 slogans for a small business that sells product number {k}. "
    "Each slogan should be short, catchy and mention sustainability.",
    "Translate the following sentences into French:\n1. The meeting {k} starts at nine.\n"
    "2. Please bring your laptop.\n3. Lunch will be served at noon.",
    "Write a SQL query that returns the top {k} customers by revenue from the orders table, "
    "joined with the customers table, for the last fiscal year.",
    "NAME_1 is a software engineer at company {k}. Write a short professional bio for NAME_1 "
    "that highlights leadership, mentoring and open-source contributions.",
    "Explain the difference between a process and a thread, with example {k}, and describe "
    "when you would choose one over the other in a Python web service.",
    "Read the passage and answer the questions.\nPassage: The river {k} floods every spring, "
    "and farmers plant rice after the water recedes.\n1. When does it flood?\n2. What is "
    "planted?",
    "Classify the sentiment of each review:\n1. Great phone, battery lasts ages ({k}).\n"
    "2. Terrible support, never again.\n3. It is fine I guess.",
    "请帮我写一篇关于人工智能在教育中应用的短文，编号{k}，大约三百字。",
    "¿Puedes corregir la gramática de estas frases? {k}\n1. Yo tener dos hermano.\n"
    "2. Ella ir a la escuela ayer.",
    "Как приготовить борщ? Рецепт номер {k}, пожалуйста, с подробными шагами.",
)
FILLER = " Please keep the tone friendly and make sure the answer is well structured."
ASSISTANT = (
    "Sure! Here is a detailed answer to your request. " * 6
    + "Let me know if you would like any changes or a different style."
)
FOLLOW_UP = "Thanks, can you make it shorter and add one more example?"


def _prompts(ids: np.ndarray, rng: np.random.Generator) -> list[str]:
    kinds = rng.random(len(ids))
    out = []
    for k, r in zip(ids.tolist(), kinds.tolist(), strict=True):
        if r < 0.03:
            out.append("hi")  # under the 10-character minimum
        elif r < 0.035:
            out.append("   \n ")
        else:
            out.append(TEMPLATES[k % len(TEMPLATES)].format(k=k) + FILLER * (k % 4))
    return out


def _moderation(m: int, rng: np.random.Generator) -> pa.Array:
    flagged = rng.random(m) < 0.02
    cats = [pa.array(flagged & (rng.random(m) < 0.5)) for _ in MODERATION_CATEGORIES]
    table = np.round(rng.random(256) * 1e-3, 6)
    scores = [pa.array(table[rng.integers(0, 256, m)]) for _ in MODERATION_CATEGORIES]
    return pa.StructArray.from_arrays(
        [
            pa.StructArray.from_arrays(cats, list(MODERATION_CATEGORIES)),
            pa.StructArray.from_arrays(scores, list(MODERATION_CATEGORIES)),
            pa.array(flagged),
        ],
        ["categories", "category_scores", "flagged"],
    )


def _chunk(start: int, n: int, rng: np.random.Generator) -> pa.Table:
    ids = np.arange(start, start + n)
    dup = rng.random(n) < DUP_RATE
    prompt_ids = ids.copy()
    prompt_ids[dup] = rng.integers(0, start + n, int(dup.sum()))
    prompts = _prompts(prompt_ids, rng)
    turns = rng.choice([1, 2, 3], size=n, p=[0.7, 0.2, 0.1])
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(turns * 2, out=offsets[1:])
    roles: list[str] = []
    contents: list[str] = []
    for prompt, t in zip(prompts, turns.tolist(), strict=True):
        roles += ["user", "assistant"] * t
        contents += [prompt, ASSISTANT] + [FOLLOW_UP, ASSISTANT] * (t - 1)
    m = len(roles)
    messages = pa.StructArray.from_arrays(
        [pa.array(contents), pa.array(roles)], ["content", "role"]
    )
    langs = np.array(["English", "Chinese", "Spanish", "Russian", "French"])
    columns = {
        "conversation_id": pa.array([f"{i:032x}" for i in ids.tolist()]),
        "model": pa.array(np.array(["vicuna-13b", "koala-13b", "gpt-4"])[ids % 3]),
        "conversation": pa.ListArray.from_arrays(pa.array(offsets), messages),
        "turn": pa.array(turns.astype(np.int64)),
        "language": pa.array(langs[rng.integers(0, len(langs), n)]),
        "openai_moderation": pa.ListArray.from_arrays(pa.array(offsets), _moderation(m, rng)),
        "redacted": pa.array(rng.random(n) < 0.05),
    }
    return pa.Table.from_pydict(columns).cast(LMSYS_SCHEMA)


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with pq.ParquetWriter(tmp, LMSYS_SCHEMA) as writer:
        for start in range(0, rows, CHUNK):
            writer.write_table(_chunk(start, min(CHUNK, rows - start), rng))
    tmp.replace(path)


def child(data: str, db: str, batch_rows: int) -> None:
    """One ingest in this process; prints its summary and this process's peak RSS."""
    from parallelprompt.producer.ingest import run_ingest

    cfg = IngestSettings(data_files=(data,), batch_rows=batch_rows)
    summary = run_ingest(cfg, db=Path(db), progress=False)
    # The ingest reads large inputs in a child process: count its peak too. The sum of the two
    # peaks is an upper bound of what the two use at once.
    own_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reader_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak_kib = own_kib + reader_kib
    print(
        json.dumps(
            {
                "rows_read": summary.rows_read,
                "kept": summary.kept,
                "new_prompts": summary.new_prompts,
                "new_sources": summary.new_sources,
                "duplicates": summary.duplicates,
                "elapsed_s": summary.elapsed_s,
                "peak_rss_mib": peak_kib / 1024,
                "own_rss_mib": own_kib / 1024,
                "reader_rss_mib": reader_kib / 1024,
                "line": summary.line(),
            }
        )
    )


def _run_child(data: Path, db: Path, batch_rows: int) -> dict[str, object]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(data), str(db), "--batch-rows", str(batch_rows)],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - t0
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--keep", action="store_true", help="reuse an existing generated file")
    parser.add_argument(
        "--batch-rows",
        type=int,
        default=IngestSettings().batch_rows,
        help="rows per enqueue transaction (default: the ingest setting's default)",
    )
    parser.add_argument("--child", nargs=2, metavar=("DATA", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.batch_rows)
        return 0
    data = args.out / f"lmsys_synthetic_{args.rows}.parquet"
    if not (args.keep and data.exists()):
        t0 = time.perf_counter()
        generate(data, args.rows)
        size = data.stat().st_size / 2**20
        print(
            f"generated {args.rows:,} conversations in {time.perf_counter() - t0:.1f} s "
            f"({size:,.0f} MiB): {data}"
        )
    db = args.out / "bench_ingest.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    print(f"machine: {os.cpu_count()} CPUs, {args.batch_rows:,} rows per transaction")
    first = _run_child(data, db, args.batch_rows)
    again = _run_child(data, db, args.batch_rows)
    ok = True
    for name, r in (("ingest", first), ("re-ingest", again)):
        rate = float(r["rows_read"]) / float(r["elapsed_s"])  # type: ignore[arg-type]
        print(f"{name:>9}: {r['line']}")
        print(
            f"{'':>9}  {rate:,.0f} conversations/s end to end "
            f"({float(r['process_s']):.1f} s with interpreter start), "  # type: ignore[arg-type]
            f"peak RSS {float(r['peak_rss_mib']):,.0f} MiB "  # type: ignore[arg-type]
            f"(ingest {float(r['own_rss_mib']):,.0f} + "  # type: ignore[arg-type]
            f"reader process {float(r['reader_rss_mib']):,.0f})"  # type: ignore[arg-type]
        )
        ok &= rate >= BAR_ROWS_PER_S and float(r["peak_rss_mib"]) <= BAR_RSS_MIB  # type: ignore[arg-type]
    ok &= again["new_sources"] == 0 and again["new_prompts"] == 0
    print(f"re-ingest added {again['new_sources']} source rows, {again['new_prompts']} prompts")
    print(
        f"bar (>= {BAR_ROWS_PER_S:,}/s, <= {BAR_RSS_MIB} MiB, re-ingest adds 0): "
        + ("met" if ok else "NOT met")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
