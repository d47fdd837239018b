"""The Bedrock Runtime errors the emulator can answer, as botocore parses them.

Every error goes out as its HTTP status, an ``X-Amzn-ErrorType`` header in the form AWS sends
(``Name:http://internal.amazon.com/coral/com.amazon.bedrock/``; botocore keeps the part before
the colon) and a JSON body ``{"message": ...}``.
"""

from __future__ import annotations

from enum import StrEnum

import orjson


class BedrockError(StrEnum):
    THROTTLING = "ThrottlingException"
    MODEL_NOT_READY = "ModelNotReadyException"
    MODEL_TIMEOUT = "ModelTimeoutException"
    SERVICE_UNAVAILABLE = "ServiceUnavailableException"
    INTERNAL_SERVER = "InternalServerException"
    VALIDATION = "ValidationException"
    ACCESS_DENIED = "AccessDeniedException"
    MODEL_ERROR = "ModelErrorException"
    RESOURCE_NOT_FOUND = "ResourceNotFoundException"

    @property
    def status(self) -> int:
        return _STATUS[self]

    @property
    def default_message(self) -> str:
        return _MESSAGE[self]


_STATUS = {
    BedrockError.THROTTLING: 429,
    BedrockError.MODEL_NOT_READY: 429,
    BedrockError.MODEL_TIMEOUT: 408,
    BedrockError.SERVICE_UNAVAILABLE: 503,
    BedrockError.INTERNAL_SERVER: 500,
    BedrockError.VALIDATION: 400,
    BedrockError.ACCESS_DENIED: 403,
    BedrockError.MODEL_ERROR: 424,
    BedrockError.RESOURCE_NOT_FOUND: 404,
}

# The messages Bedrock itself sends for these errors, as users report them.
_MESSAGE = {
    BedrockError.THROTTLING: "Too many requests, please wait before trying again.",
    BedrockError.MODEL_NOT_READY: (
        "Model is not ready to serve inference requests. The AWS SDK will automatically retry "
        "the operation up to 5 times."
    ),
    BedrockError.MODEL_TIMEOUT: (
        "Model has timed out in processing the request. Try your request again."
    ),
    BedrockError.SERVICE_UNAVAILABLE: "Bedrock is unable to process your request.",
    BedrockError.INTERNAL_SERVER: (
        "The system encountered an unexpected error during processing. Try your request again."
    ),
    BedrockError.VALIDATION: "Malformed input request, please reformat your input and try again.",
    BedrockError.ACCESS_DENIED: "You don't have access to the model with the specified model ID.",
    BedrockError.MODEL_ERROR: "The model returned an error while processing the request.",
    BedrockError.RESOURCE_NOT_FOUND: "The requested resource could not be found.",
}

# Messages of the validation errors the emulator finds in a request.
INVALID_MODEL = "The provided model identifier is invalid."
RETIRED_MODEL = (
    "This model version has reached the end of its life. Please refer to the AWS documentation "
    "for more details."
)
MISSING_AUTH = "Authorization header is missing"
# Claude Haiku 5.5 refuses sampling parameters (Anthropic's migration guide: a 400); the wording
# of Bedrock's message is ours, the status and error type are the documented ones.
SAMPLING_REFUSED = (
    "The model returned the following errors: {params}: sampling parameters are not supported "
    "for this model; omit temperature, top_p and top_k."
)
THINKING_REFUSED = (
    "The model returned the following errors: thinking: Input tag '{kind}' found using 'type' "
    "does not match any of the expected tags: {accepted}"
)

_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


def error_parts(error: BedrockError, message: str | None = None) -> tuple[int, str, bytes]:
    """(status, X-Amzn-ErrorType header value, JSON body) for ``error``."""
    body = orjson.dumps({"message": message or error.default_message})
    return error.status, error.value + _TYPE_SUFFIX, body
