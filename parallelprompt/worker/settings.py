"""The worker's settings section (``worker``): the model, the endpoint, the fleet's quota, the
budget, retries, leases, buffered writes and the metrics endpoint."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from parallelprompt.common.options import non_negative, opt, positive, tcp_port
from parallelprompt.prompts.settings import ContractSettings
from parallelprompt.worker.llm.registry import ADAPTERS

NO_BUDGET = math.inf
#: AWS region names: us-east-1, eu-central-1, ap-southeast-2, us-gov-west-1, ...
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")


def aws_region(value: str | None) -> str | None:
    if value is None or REGION.fullmatch(value):
        return None
    return f"{value!r} is not an AWS region name (like us-east-1 or eu-central-1)"


def budget(raw: str) -> float:
    """A spending cap in USD, or ``none`` (:data:`NO_BUDGET`): run without one, knowingly."""
    if raw.strip().lower() == "none":
        return NO_BUDGET
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


@dataclass(frozen=True)
class WorkerSettings:
    model: str = opt(
        "global.anthropic.claude-haiku-5-5",
        "Bedrock model id or inference profile (`parallelprompt models` lists the catalogue; "
        "the paper used Claude 3.5 Haiku, now end of life)",
    )
    client: str = opt(
        "bedrock",
        "LLM client adapter (`worker/llm/registry.py`): bedrock speaks Bedrock Runtime, which "
        "the emulator speaks too",
        choices=tuple(ADAPTERS),
    )
    api: str = opt("converse", "Bedrock API to call", choices=("converse", "invoke"))
    region: str | None = opt(
        None,
        "AWS region (default: the AWS chain's, else us-east-1)",
        env="AWS_REGION",
        rule=aws_region,
    )
    endpoint_url: str | None = opt(
        None,
        "Bedrock Runtime endpoint, e.g. the emulator (the SDK's own "
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME works too)",
    )
    backend: str = opt(
        "auto",
        "where to send prompts. `run`: auto uses the local emulator for the bundled sample or "
        "without AWS credentials, emulator always starts one, bedrock uses AWS. `work`: what "
        "must answer at the endpoint (auto: anything). The backend recorded with a run is "
        "always the one that answered, never this flag",
        choices=("auto", "bedrock", "emulator"),
    )
    concurrency: int = opt(32, "in-flight calls per worker process", rule=positive)
    rpm: float = opt(1000.0, "requests/min quota shared by the whole fleet", rule=positive)
    tpm: float = opt(2_000_000.0, "tokens/min quota shared by the whole fleet", rule=positive)
    connect_timeout: float = opt(10.0, "connect timeout, seconds", rule=positive)
    read_timeout: float = opt(120.0, "read timeout, seconds", rule=positive)
    max_attempts: int = opt(
        8, "attempts per prompt before it goes to the dead letters", rule=positive
    )
    lease_seconds: float = opt(
        300.0, "lease length; extended while a call is in flight", rule=positive
    )
    max_cost_usd: float | None = opt(
        None,
        "stop claiming when this budget would be exceeded; required for Bedrock "
        "(`none`: no budget, knowingly)",
        convert=budget,
        rule=non_negative,
    )
    grace_seconds: float = opt(
        30.0, "on SIGTERM/SIGINT, time to drain in-flight calls", rule=non_negative
    )
    flush_rows: int = opt(100, "flush results after this many rows ...", rule=positive)
    flush_ms: float = opt(50.0, "... or after this many milliseconds", rule=positive)
    metrics_host: str = opt("127.0.0.1", "address of the /healthz and /metrics endpoint")
    metrics_port: int | None = opt(
        None, "port of /healthz and /metrics (off if unset)", rule=tcp_port
    )
    new_run: bool = opt(
        False, "start a new run (re-classify everything under this configuration)", kind="bool"
    )
    exit_when_empty: bool = opt(
        True, "exit when the queue is drained (--no-exit-when-empty keeps polling)", kind="bool"
    )
    price_in: float | None = opt(
        None, "USD per million input tokens (overrides the catalogue)", rule=non_negative
    )
    price_out: float | None = opt(
        None, "USD per million output tokens (overrides the catalogue)", rule=non_negative
    )
    price_cache_write: float | None = opt(
        None,
        "USD per million tokens written to the prompt cache (default: 1.25x input)",
        rule=non_negative,
    )
    price_cache_read: float | None = opt(
        None,
        "USD per million tokens read from the prompt cache (default: 0.1x input)",
        rule=non_negative,
    )
    prompt_cache: bool = opt(
        True,
        "cache the system prompt when it reaches the model's minimum (--no-prompt-cache: never)",
        kind="bool",
    )


@dataclass(frozen=True)
class Job:
    """What one worker process runs under: its own section, the contract's, and the database."""

    worker: WorkerSettings
    contract: ContractSettings
    db: Path
