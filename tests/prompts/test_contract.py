from __future__ import annotations

from pathlib import Path

import pytest

from parallelprompt.prompts import CANONICAL_CATEGORIES, PROFILES, Contract, estimate_tokens

CONTRACT = Contract.load()


def test_system_prompt_covers_the_contract() -> None:
    text = CONTRACT.system_prompt
    assert "{categories}" not in text
    for name in CANONICAL_CATEGORIES:
        assert name in text
    for key in (
        "parallelizable",
        "category_description",
        "names",
        '"from"',
        '"to"',
        '"replace"',
        '"with"',
        "template",
        "context",
        "data",
        "n",
        "{data}",
        "{context}",
        "{n}",
        "NAME_1",
    ):
        assert key in text
    # Lean answers: nothing asks the model to echo the prompt (issue 13).
    assert '"serial"' not in text and "is_novel_category" not in text
    assert '{"parallelizable": false}' in text
    for signal in ("cada", "tous", "alle", "每个", "NOT parallelizable", "WRONG", "RIGHT"):
        assert signal in text


def test_version_is_a_stable_short_hash() -> None:
    assert len(CONTRACT.version) == 12
    assert int(CONTRACT.version, 16) >= 0
    assert Contract.load().version == CONTRACT.version
    assert CONTRACT.with_profile("original").version != CONTRACT.version
    assert Contract.load(rules="original").version == CONTRACT.with_profile("original").version


def test_user_system_prompt(tmp_path: Path) -> None:
    path = tmp_path / "mine.md"
    path.write_text("Classify. Categories:\n{categories}\nAnswer in JSON.", encoding="utf-8")
    contract = Contract.load(system_prompt_path=path)
    assert contract.system_prompt.startswith("Classify. Categories:\n- **Repeated Generation**")
    assert contract.version != CONTRACT.version


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown rule profile 'strict'"):
        Contract.load(rules="strict")
    with pytest.raises(ValueError, match="cannot read system prompt"):
        Contract.load(system_prompt_path=tmp_path / "missing.md")
    empty = tmp_path / "empty.md"
    empty.write_text("  \n", encoding="utf-8")
    with pytest.raises(ValueError, match="empty"):
        Contract.load(system_prompt_path=empty)


def test_profiles_registered() -> None:
    assert {"original", "default"} <= set(PROFILES)


@pytest.mark.parametrize(
    "text", ["", "hello world", "Bonjour à tous", "你好世界" * 50, "🙂" * 10, "x" * 10_000]
)
def test_estimate_tokens_is_conservative(text: str) -> None:
    estimate = estimate_tokens(text)
    assert estimate >= len(text) / 4  # English averages ~4 characters per token
    assert estimate >= sum(1 for ch in text if ord(ch) > 0x2E80)  # CJK ~1 token per character
    assert estimate_tokens(text + "more") >= estimate


def test_estimate_input_tokens_includes_system_prompt() -> None:
    assert CONTRACT.estimate_input_tokens("hi") > estimate_tokens(CONTRACT.system_prompt)
