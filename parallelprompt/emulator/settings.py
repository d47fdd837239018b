"""The emulator's settings section (``emulator``): where it listens, its quota, latency, faults
and answer style. Every variable is ``PARALLELPROMPT_EMULATOR_*`` so that it never reads the
worker's."""

from __future__ import annotations

from dataclasses import dataclass

from parallelprompt.common.options import between, non_negative, opt, positive, tcp_port


@dataclass(frozen=True)
class EmulatorSettings:
    host: str = opt("127.0.0.1", "address to bind", env="PARALLELPROMPT_EMULATOR_HOST")
    port: int = opt(
        8787, "port to bind (0: a free one)", env="PARALLELPROMPT_EMULATOR_PORT", rule=tcp_port
    )
    rpm: float = opt(
        0.0, "requests/min quota (0: none)", env="PARALLELPROMPT_EMULATOR_RPM", rule=non_negative
    )
    tpm: float = opt(
        0.0, "tokens/min quota (0: none)", env="PARALLELPROMPT_EMULATOR_TPM", rule=non_negative
    )
    burst_seconds: float = opt(
        60.0,
        "bucket capacity in seconds of quota",
        env="PARALLELPROMPT_EMULATOR_BURST_SECONDS",
        rule=positive,
    )
    latency_ms: float = opt(
        0.0, "base latency", env="PARALLELPROMPT_EMULATOR_LATENCY_MS", rule=non_negative
    )
    per_token_ms: float = opt(
        0.0,
        "extra latency per output token",
        env="PARALLELPROMPT_EMULATOR_PER_TOKEN_MS",
        rule=non_negative,
    )
    jitter_ms: float = opt(
        0.0, "uniform latency jitter", env="PARALLELPROMPT_EMULATOR_JITTER_MS", rule=non_negative
    )
    faults: str = opt(
        "",
        "fault rates, e.g. throttle=0.05,server=0.01,timeout=0.01,malformed=0.01,"
        "truncated=0.01,refusal=0.01,empty=0.01",
        env="PARALLELPROMPT_EMULATOR_FAULTS",
    )
    seed: int = opt(
        0, "seed for latency, faults and the answer style", env="PARALLELPROMPT_EMULATOR_SEED"
    )
    answer_style: str = opt(
        "realistic",
        "realistic: the heuristic extractor's answers with a model's seeded imperfections "
        "(paraphrases, invented items, wrappers, truncation; docs/emulator.md); "
        "exact: its answers as they are",
        env="PARALLELPROMPT_EMULATOR_ANSWER_STYLE",
        choices=("realistic", "exact"),
    )
    models: tuple[str, ...] = opt(
        (),
        "accepted model ids (empty: the model catalogue's, see `parallelprompt models`)",
        kind="list",
        env="PARALLELPROMPT_EMULATOR_MODELS",
    )
    retired_models: tuple[str, ...] = opt(
        (), "model ids answered as retired", kind="list", env="PARALLELPROMPT_EMULATOR_RETIRED"
    )
    slow_seconds: float = opt(
        300.0,
        "how long a 'slow' fault stalls (past a client's read timeout)",
        env="PARALLELPROMPT_EMULATOR_SLOW_SECONDS",
        rule=non_negative,
    )
    initial_fill: float = opt(
        1.0,
        "quota buckets' fill at start, 0..1 (1: a full burst)",
        env="PARALLELPROMPT_EMULATOR_INITIAL_FILL",
        rule=between(0.0, 1.0),
    )
