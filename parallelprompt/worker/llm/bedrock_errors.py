"""The Bedrock adapter's errors: botocore's exceptions and AWS error codes translated into our
:mod:`worker.errors` taxonomy (:func:`translate` never raises)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError

from parallelprompt.worker.errors import CallError, Code, FatalError, PromptError, RetryableError

_RETRYABLE = {
    "ThrottlingException": Code.THROTTLED,
    "TooManyRequestsException": Code.THROTTLED,
    "ModelNotReadyException": Code.MODEL_NOT_READY,
    "InternalServerException": Code.SERVER,
    "ServiceUnavailableException": Code.UNAVAILABLE,
    "ModelTimeoutException": Code.MODEL_TIMEOUT,
    "ModelErrorException": Code.MODEL_ERROR,
    "ModelStreamErrorException": Code.MODEL_ERROR,
}

_FATAL = {
    "AccessDeniedException": (Code.ACCESS_DENIED, "no access to this model in this account"),
    "ResourceNotFoundException": (Code.NOT_FOUND, "the model is unknown, retired or not here"),
    "UnrecognizedClientException": (Code.CREDENTIALS, "the AWS credentials are not valid"),
    "InvalidSignatureException": (Code.CREDENTIALS, "the AWS credentials are not valid"),
    "ExpiredTokenException": (Code.CREDENTIALS, "the AWS session token has expired"),
    "ExpiredToken": (Code.CREDENTIALS, "the AWS session token has expired"),
    "ServiceQuotaExceededException": (Code.QUOTA_EXCEEDED, "the account's quota is exhausted"),
    "ValidationException": (Code.VALIDATION, "Bedrock rejected the request"),
}

# ValidationException messages that concern one prompt, not the configuration.
_PROMPT_SPECIFIC = ("too long", "too many tokens", "context window", "context length")


def translate(exc: BaseException) -> CallError:
    """Our error for anything the Bedrock client raised (never raises itself)."""
    if isinstance(exc, CallError):
        return exc
    if isinstance(exc, ClientError):
        return _from_client_error(exc)
    if isinstance(exc, ReadTimeoutError | TimeoutError):
        return RetryableError(Code.READ_TIMEOUT, f"no answer in time ({exc})")
    if isinstance(exc, ConnectionError | HTTPClientError):
        return RetryableError(Code.CONNECTION, str(exc))
    if isinstance(
        exc,
        NoCredentialsError | PartialCredentialsError | CredentialRetrievalError | ProfileNotFound,
    ):
        return FatalError(
            Code.CREDENTIALS,
            f"{exc} — configure AWS credentials (environment, profile or role), "
            "or run `parallelprompt run` without credentials to use the local emulator",
        )
    if isinstance(exc, ResponseParserError):  # a 200 that is not Bedrock's (a proxy, HTML)
        return RetryableError(Code.BAD_RESPONSE, f"not a Bedrock answer: {exc}"[:500])
    if isinstance(exc, NoRegionError):
        return FatalError(Code.VALIDATION, "no AWS region: pass --region or set AWS_REGION")
    if isinstance(exc, BotoCoreError):
        return RetryableError(Code.UNKNOWN, str(exc))
    if isinstance(exc, OSError):
        return RetryableError(Code.CONNECTION, str(exc))
    return RetryableError(Code.UNKNOWN, f"{type(exc).__name__}: {exc}")


def _from_client_error(exc: ClientError) -> CallError:
    response: dict[str, Any] = exc.response or {}
    error = response.get("Error") or {}
    aws_code = str(error.get("Code") or "Unknown")
    message = str(error.get("Message") or exc)
    status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
    if aws_code in _RETRYABLE:
        return RetryableError(_RETRYABLE[aws_code], message, aws_code)
    if aws_code == "ValidationException" and any(p in message.lower() for p in _PROMPT_SPECIFIC):
        return PromptError(Code.PROMPT_TOO_LONG, message, aws_code)
    if aws_code in _FATAL:
        code, hint = _FATAL[aws_code]
        invalid = aws_code == "ValidationException"
        return FatalError(code, f"{hint}: {message}", aws_code, request_invalid=invalid)
    if status >= 500 or status == 429:
        return RetryableError(Code.SERVER if status >= 500 else Code.THROTTLED, message, aws_code)
    return FatalError(Code.UNKNOWN, message, aws_code)
