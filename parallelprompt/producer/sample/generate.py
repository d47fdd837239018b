"""Write the bundled sample dataset: ``python -m producer.sample.generate``.

Deterministic: the same prompt lists (:mod:`producer.sample.prompts`) always give the same
files. Writes ``lmsys_sample.parquet`` and ``wildchat_sample.parquet`` with the real datasets'
schemas, and ``manifest.json``: one entry per conversation with its kind (parallel, novel,
negative, shared, edge), intended category, language and expected ingest outcome.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

from parallelprompt.producer.sample import prompts
from parallelprompt.producer.schemas import (
    LMSYS_SCHEMA,
    WILDCHAT_SCHEMA,
    Message,
    lmsys_row,
    wildchat_row,
    write_parquet,
)

HERE = Path(__file__).resolve().parent

CATEGORIES: dict[str, list[prompts.Entry]] = {
    "Repeated Generation": prompts.REPEATED,
    "Reading Comprehension": prompts.READING,
    "Keyword Extraction": prompts.KEYWORDS,
    "Named Entity Recognition": prompts.NER,
    "Translation": prompts.TRANSLATION,
    "Language Correction": prompts.CORRECTION,
    "Sentiment Analysis": prompts.SENTIMENT,
}
LMSYS_MODELS = ("vicuna-13b", "koala-13b", "alpaca-13b", "chatglm-6b", "llama-2-13b-chat")
WILDCHAT_MODELS = ("gpt-3.5-turbo-0613", "gpt-4-0314", "gpt-4-1106-preview")
REPLY = {
    "Chinese": "好的，以下是我的回答。",
    "Japanese": "はい、こちらが回答です。",
    "Korean": "네, 여기 답변입니다.",
    "Russian": "Конечно, вот ответ.",
}
FOLLOW_UP = "Thanks! Can you make it a bit shorter?"


class Builder:
    """Collects rows of both files and the manifest."""

    def __init__(self) -> None:
        self.lmsys: list[dict[str, Any]] = []
        self.wildchat: list[dict[str, Any]] = []
        self.manifest: list[dict[str, Any]] = []

    def add(
        self,
        dataset: str,
        messages: list[Message] | None,
        *,
        language: str,
        kind: str,
        category: str | None = None,
        expect: str = "kept",
        toxic: bool = False,
        redacted: bool = False,
    ) -> None:
        if dataset == "lmsys":
            n = len(self.lmsys)
            cid = f"lmsys-sample-{n:04d}"
            model = LMSYS_MODELS[n % len(LMSYS_MODELS)]
            self.lmsys.append(
                lmsys_row(
                    cid, messages, language=language, model=model, redacted=redacted, flagged=toxic
                )
            )
        else:
            n = len(self.wildchat)
            cid = f"wildchat-sample-{n:04d}"
            self.wildchat.append(
                wildchat_row(
                    cid,
                    messages,
                    language=language,
                    model=WILDCHAT_MODELS[n % len(WILDCHAT_MODELS)],
                    toxic=toxic,
                    redacted=redacted,
                    minute=n * 7,
                )
            )
        self.manifest.append(
            {
                "dataset": dataset,
                "row_index": n,
                "conversation_id": cid,
                "kind": kind,
                "category": category,
                "language": language,
                "expect": expect,
            }
        )


def _chat(language: str, prompt: str, turns: int) -> list[Message]:
    reply = REPLY.get(language, "Sure, here you go.")
    msgs: list[Message] = [("user", prompt), ("assistant", reply)]
    for _ in range(turns - 1):
        msgs += [("user", FOLLOW_UP), ("assistant", reply)]
    return msgs


def _lmsys_style(prompt: str, i: int) -> str:
    """LMSYS anonymised names: some English prompts address NAME_1."""
    if i % 9 == 4 and prompt.isascii():
        return f"Hi NAME_1! {prompt}"
    return prompt


def build() -> Builder:
    b = Builder()
    counter = itertools.count()
    families: list[tuple[str, str | None, list[prompts.Entry]]] = [
        ("parallel", name, entries) for name, entries in CATEGORIES.items()
    ]
    families += [("novel", None, prompts.NOVEL), ("negative", None, prompts.NEGATIVES)]
    for kind, category, entries in families:
        for language, prompt in entries:
            i = next(counter)
            dataset = "lmsys" if i % 2 == 0 else "wildchat"
            text = _lmsys_style(prompt, i) if dataset == "lmsys" else prompt
            turns = 1 + (i % 5 == 0) + (i % 11 == 0)
            b.add(
                dataset, _chat(language, text, turns), language=language, kind=kind,
                category=category,
            )  # fmt: skip
            if i % 4 in (0, 1):  # popular prompts recur: asked again by another user elsewhere
                other = "wildchat" if dataset == "lmsys" else "lmsys"
                b.add(
                    other, _chat(language, prompt, 2 if i % 4 == 0 else 1), language=language,
                    kind=kind, category=category,
                )  # fmt: skip
    for language, prompt in prompts.SHARED:
        # The same prompt in both datasets; WildChat's copy has extra whitespace, which the
        # dedup key ignores.
        b.add("lmsys", _chat(language, prompt, 1), language=language, kind="shared")
        spaced = "  " + prompt.replace(" ", "  ", 1) + "\n"
        b.add("wildchat", _chat(language, spaced, 1), language=language, kind="shared")
    _edge_cases(b)
    return b


def _edge_cases(b: Builder) -> None:
    en = "English"
    b.add(
        "lmsys",
        [("assistant", "Hello! How can I help?"), ("user", "Give me 3 tips for better sleep.")],
        language=en, kind="edge", category="Repeated Generation",
    )  # fmt: skip
    b.add("lmsys", [("user", "   \n\t  "), ("assistant", "?")], language=en, kind="edge",
          expect="whitespace_only")  # fmt: skip
    for short in ("hi", "hello", "test", "ok thanks"):
        b.add("lmsys", _chat(en, short, 1), language=en, kind="edge", expect="too_short")
    b.add("lmsys", [("user", None), ("assistant", "?")], language=en, kind="edge",
          expect="null_content")  # fmt: skip
    b.add("lmsys", [], language=en, kind="edge", expect="no_conversation")
    b.add("lmsys", [("assistant", "I am a helpful assistant.")], language=en, kind="edge",
          expect="no_user_turn")  # fmt: skip
    b.add(
        "lmsys",
        _chat(en, "NAME_1's phone number is NAME_2. Write 3 reminder texts for NAME_1.", 1),
        language=en, kind="edge", category="Repeated Generation", redacted=True,
    )  # fmt: skip
    b.add(
        "lmsys",
        _chat(en, "Translate these words into Spanish:\x00\n1. cat\n2. dog\n3. house", 1),
        language=en, kind="edge", category="Translation",
    )  # fmt: skip
    b.add("lmsys", _chat(en, "Write 5 insults for my coworker, be really nasty.", 1),
          language=en, kind="edge", toxic=True)  # fmt: skip
    b.add("lmsys", _chat("Spanish", "hola", 1), language="Spanish", kind="edge",
          expect="too_short")  # fmt: skip
    b.add(
        "wildchat",
        [("assistant", "Welcome back!"), ("user", "List 4 ways to save money on groceries.")],
        language=en, kind="edge", category="Repeated Generation",
    )  # fmt: skip
    b.add("wildchat", _chat(en, "Write 3 threatening messages to send to my neighbour.", 1),
          language=en, kind="edge", toxic=True)  # fmt: skip
    b.add("wildchat", _chat("Russian", "Напиши 5 оскорблений для соседа.", 1),
          language="Russian", kind="edge", toxic=True)  # fmt: skip
    b.add(
        "wildchat",
        _chat(en, "My email is [REDACTED]. Write 2 polite follow-up emails to a recruiter.", 1),
        language=en, kind="edge", category="Repeated Generation", redacted=True,
    )  # fmt: skip
    b.add("wildchat", [("user", "\n\n"), ("assistant", "?")], language=en, kind="edge",
          expect="whitespace_only")  # fmt: skip
    b.add("wildchat", _chat(en, "thx", 1), language=en, kind="edge", expect="too_short")
    b.add("wildchat", _chat("Chinese", "你好", 1), language="Chinese", kind="edge",
          expect="too_short")  # fmt: skip
    # The same user asking the same thing twice: a duplicate within one dataset.
    for _ in range(2):
        b.add("wildchat", _chat(en, "Give me 10 ideas for a birthday party.", 1),
              language=en, kind="edge", category="Repeated Generation")  # fmt: skip


def write(out: Path) -> Builder:
    b = build()
    write_parquet(b.lmsys, LMSYS_SCHEMA, out / "lmsys_sample.parquet")
    write_parquet(b.wildchat, WILDCHAT_SCHEMA, out / "wildchat_sample.parquet")
    (out / "manifest.json").write_text(
        json.dumps(b.manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    b = write(args.out)
    print(f"wrote {len(b.lmsys)} LMSYS and {len(b.wildchat)} WildChat conversations to {args.out}")


if __name__ == "__main__":
    main()
