"""The retry taxonomy's translation table and the price table (pure)."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from parallelprompt.catalogue import DEFAULT_MODEL, base_model_id, lookup, pricing
from parallelprompt.worker.errors import Code, FatalError, PromptError, RetryableError
from parallelprompt.worker.llm.bedrock_errors import translate


def client_error(code: str, status: int, message: str = "boom") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "Converse",
    )


@pytest.mark.parametrize(
    ("code", "status", "ours"),
    [
        ("ThrottlingException", 429, Code.THROTTLED),
        ("ModelNotReadyException", 429, Code.MODEL_NOT_READY),
        ("InternalServerException", 500, Code.SERVER),
        ("ServiceUnavailableException", 503, Code.UNAVAILABLE),
        ("ModelTimeoutException", 408, Code.MODEL_TIMEOUT),
        ("ModelErrorException", 424, Code.MODEL_ERROR),
        ("SomethingNewException", 502, Code.SERVER),
    ],
)
def test_retryable_client_errors(code: str, status: int, ours: Code) -> None:
    err = translate(client_error(code, status))
    assert isinstance(err, RetryableError)
    assert err.code is ours


@pytest.mark.parametrize(
    ("code", "status", "ours"),
    [
        ("ValidationException", 400, Code.VALIDATION),
        ("AccessDeniedException", 403, Code.ACCESS_DENIED),
        ("ResourceNotFoundException", 404, Code.NOT_FOUND),
        ("UnrecognizedClientException", 403, Code.CREDENTIALS),
        ("ExpiredTokenException", 403, Code.CREDENTIALS),
        ("ServiceQuotaExceededException", 400, Code.QUOTA_EXCEEDED),
        ("SomethingNewException", 400, Code.UNKNOWN),
    ],
)
def test_fatal_client_errors(code: str, status: int, ours: Code) -> None:
    err = translate(client_error(code, status))
    assert isinstance(err, FatalError)
    assert err.code is ours
    # Only a request Bedrock found invalid may be one prompt's problem (the pool decides).
    assert err.request_invalid is (code == "ValidationException")


def test_a_too_long_prompt_is_that_prompt_s_problem_only() -> None:
    err = translate(
        client_error("ValidationException", 400, "Input is too long for requested model.")
    )
    assert isinstance(err, PromptError)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ReadTimeoutError(endpoint_url="http://x"), RetryableError),
        (ConnectTimeoutError(endpoint_url="http://x"), RetryableError),
        (EndpointConnectionError(endpoint_url="http://x"), RetryableError),
        (TimeoutError(), RetryableError),
        (NoCredentialsError(), FatalError),
    ],
)
def test_transport_exceptions(exc: Exception, kind: type) -> None:
    assert isinstance(translate(exc), kind)


def test_price_table() -> None:
    assert base_model_id("us.anthropic.claude-3-5-haiku-20241022-v1:0") == (
        "anthropic.claude-3-5-haiku-20241022-v1:0"
    )
    haiku35 = lookup("us.anthropic.claude-3-5-haiku-20241022-v1:0")
    assert haiku35 is not None and haiku35.legacy and haiku35.end_of_life()
    assert (haiku35.price("regional").input, haiku35.price("regional").output) == (0.80, 4.00)
    p = pricing(DEFAULT_MODEL)  # Haiku 5.5 on the global profile
    assert p.known and p.family == "global"
    assert p.cost(1_000_000, 1_000_000) == pytest.approx(0.60)
    assert p.cost(0, 0, cache_read=1_000_000, cache_write=1_000_000) == pytest.approx(0.135)
    regional = pricing("us.anthropic.claude-haiku-5-5")
    assert regional.family == "regional" and regional.price_in == pytest.approx(0.11)
    assert pricing("global.anthropic.claude-haiku-4-5-20251001-v1:0").known
    unknown = pricing("acme.unknown-model-v1")
    assert not unknown.known and unknown.cost(10**6, 10**6) == 0.0
    override = pricing("acme.unknown-model-v1", 2.0, 3.0, cache_read=0.5)
    assert override.known and override.cost(10**6, 0) == pytest.approx(2.0)
    assert override.cache_write == pytest.approx(2.5) and override.cache_read == 0.5
