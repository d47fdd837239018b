"""Fault names, rates and the seeded picker; answer shaping."""

from __future__ import annotations

import pytest

from parallelprompt.emulator import FaultKind, FaultPicker, FaultRates
from parallelprompt.emulator.answers import REFUSAL_TEXT, compose
from parallelprompt.emulator.protocol import RequestError, parse_converse, parse_invoke


def test_parse_rates() -> None:
    rates = FaultRates.parse("throttle=0.05, server=0.01,timeout=0.02;slow=0")
    assert rates.throttle == 0.05 and rates.server == 0.01 and rates.model_timeout == 0.02
    assert rates.total() == pytest.approx(0.08)
    assert str(rates) == "throttle=0.05,model_timeout=0.02,server=0.01"
    assert FaultRates.parse("") == FaultRates()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("throtle=0.1", "unknown fault 'throtle'; known faults: throttle, not_ready"),
        ("throttle", "has no rate"),
        ("throttle=lots", "is not a number"),
        ("throttle=1.5", "not between 0 and 1"),
        ("throttle=0.6,server=0.6", "add up to 1.2"),
        ("server=0.1,server=0.2", "given twice"),
    ],
)
def test_parse_errors_are_clear(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        FaultRates.parse(text)


def test_every_fault_has_a_rate_field() -> None:
    assert [kind for kind, _ in FaultRates().items()] == list(FaultKind)


def test_picker_is_reproducible_and_close_to_the_rates() -> None:
    rates = FaultRates.parse("throttle=0.2,server=0.1,empty=0.05")
    first = FaultPicker(rates, seed=7)
    second = FaultPicker(rates, seed=7)
    draws = [first.pick() for _ in range(10_000)]
    assert draws == [second.pick() for _ in range(10_000)]
    assert draws != [FaultPicker(rates, seed=8).pick() for _ in range(10_000)]
    assert 1800 < draws.count(FaultKind.THROTTLE) < 2200
    assert 850 < draws.count(FaultKind.SERVER) < 1150
    assert 380 < draws.count(FaultKind.EMPTY) < 620
    first.reset()
    assert [first.pick() for _ in range(100)] == draws[:100]


def test_no_faults_draws_nothing() -> None:
    picker = FaultPicker(FaultRates(), seed=1)
    assert {picker.pick() for _ in range(100)} == {None}


def _rough_tokens(text: str) -> int:
    return len(text) // 4 + 1


ANSWER = '{"parallelizable": true, "category": "Translation", "data": ["a", "b"]}'


def test_compose_answers() -> None:
    plain = compose(ANSWER, None, 1000, _rough_tokens)
    assert (plain.text, plain.stop_reason, plain.output_tokens) == (ANSWER, "end_turn", 18)
    cut = compose(ANSWER, None, 5, _rough_tokens)
    assert cut.stop_reason == "max_tokens" and cut.output_tokens == 5
    assert cut.text is not None and ANSWER.startswith(cut.text) and len(cut.text) < len(ANSWER)
    truncated = compose(ANSWER, FaultKind.TRUNCATED, 1000, _rough_tokens)
    assert truncated.stop_reason == "max_tokens" and truncated.output_tokens == 1000
    assert truncated.text == ANSWER[: len(ANSWER) // 2]
    refusal = compose(ANSWER, FaultKind.REFUSAL, 1000, _rough_tokens)
    assert refusal.text == REFUSAL_TEXT and refusal.stop_reason == "end_turn"
    empty = compose(ANSWER, FaultKind.EMPTY, 1000, _rough_tokens)
    assert (empty.text, empty.output_tokens) == (None, 0)
    malformed = compose(ANSWER, FaultKind.MALFORMED, 1000, _rough_tokens)
    assert malformed.text is not None and not malformed.text.rstrip().endswith("}")


def test_parse_requests() -> None:
    body = (
        b'{"system": [{"text": "S"}], "inferenceConfig": {"maxTokens": 9}, "messages": ['
        b'{"role": "user", "content": [{"text": "old"}]},'
        b'{"role": "assistant", "content": [{"text": "A"}]},'
        b'{"role": "user", "content": [{"text": "one"}, {"image": {}}, {"text": "two"}]}]}'
    )
    req = parse_converse(body, None)
    assert (req.prompt, req.system, req.max_tokens) == ("one\ntwo", "S", 9)
    anthropic = (
        b'{"anthropic_version": "bedrock-2023-05-31", "max_tokens": 7, "system": '
        b'[{"type": "text", "text": "S"}], "messages": [{"role": "user", "content": '
        b'[{"type": "text", "text": "P"}]}]}'
    )
    req = parse_invoke(anthropic)
    assert (req.prompt, req.system, req.max_tokens) == ("P", "S", 7)
    with pytest.raises(RequestError, match="maxTokens"):
        parse_converse(b'{"messages": [{"role": "user", "content": [{"text": "x"}]}]}', None)
    with pytest.raises(RequestError, match="maxTokens"):
        parse_converse(
            b'{"inferenceConfig": {"maxTokens": true}, "messages": '
            b'[{"role": "user", "content": [{"text": "x"}]}]}',
            None,
        )
