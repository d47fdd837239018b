"""Run identity is decided in one place: :meth:`db.RunIdentity.matches`."""

from __future__ import annotations

import orjson

from parallelprompt.db import Run, RunIdentity

IDENTITY = RunIdentity(
    "m",
    "converse",
    "v1",
    "default",
    "bedrock",
    "https://bedrock.example",
    "https://bedrock.example",
)


def run(config: object, **fields: str) -> Run:
    values = {"model_id": "m", "api": "converse", "contract_version": "v1", "rules": "default",
              "backend": "bedrock", **fields}  # fmt: skip
    return Run(id=1, created_at=0.0, config_json=orjson.dumps(config).decode(), **values)


def test_a_run_with_the_same_identity_matches() -> None:
    assert IDENTITY.matches(run({"endpoint": "https://bedrock.example"}))
    assert RunIdentity.of_run(run({"endpoint": "https://bedrock.example"})) == IDENTITY


def test_any_part_of_the_identity_differing_is_another_run() -> None:
    endpoint = {"endpoint": "https://bedrock.example"}
    assert not IDENTITY.matches(run(endpoint, model_id="m2"))
    assert not IDENTITY.matches(run(endpoint, rules="original"))
    assert not IDENTITY.matches(run(endpoint, backend="emulator"))
    assert not IDENTITY.matches(run({"endpoint": "https://elsewhere.example"}))


def test_a_run_recorded_before_endpoints_matches_by_its_raw_endpoint_url() -> None:
    legacy = run({"endpoint_url": "https://bedrock.example"})
    assert IDENTITY.matches(legacy)
    assert not IDENTITY.matches(run({"endpoint_url": "https://elsewhere.example"}))
    # a recorded endpoint, even empty, is not a legacy run
    assert not IDENTITY.matches(run({"endpoint": "", "endpoint_url": "https://bedrock.example"}))
    assert not IDENTITY.matches(Run(1, 0.0, "m", "converse", "v1", "default", "bedrock", "{bad"))


def test_the_endpoint_url_is_not_part_of_the_identity() -> None:
    assert RunIdentity("m", "converse", "v1", "default", "bedrock",
                                   "https://bedrock.example", None) == IDENTITY  # fmt: skip
