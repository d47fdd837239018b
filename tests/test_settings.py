"""The one typed settings object: flag > environment > default, and its documentation."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from parallelprompt import settings as cfg

ROOT = Path(__file__).resolve().parents[1]


def parse(sections: list[str], argv: list[str], env: dict[str, str]) -> cfg.Settings:
    parser = argparse.ArgumentParser()
    cfg.add_arguments(parser, sections)
    return cfg.build(parser.parse_args(argv), env)


def test_flag_beats_environment_beats_default() -> None:
    env = {"PARALLELPROMPT_RPM": "500", "PARALLELPROMPT_TPM": "12345"}
    s = parse(["common", "worker"], ["--rpm", "50"], env)
    assert s.worker.rpm == 50.0
    assert s.worker.tpm == 12345.0
    assert s.worker.concurrency == 32


def test_every_setting_has_a_flag_and_a_variable() -> None:
    flags, envs = set(), set()
    for section in ("common", "ingest", "contract", "worker", "emulator", "output"):
        for o in cfg.options(section):
            assert o.flag.startswith("--") and o.help
            envs.add(o.env)
            flags.add((section, o.flag))
    assert all(e.startswith(("PARALLELPROMPT_", "AWS_")) for e in envs)
    assert len(envs) == len(flags)  # no two settings share a variable


def test_booleans_lists_and_empty_values_from_the_environment() -> None:
    env = {
        "PARALLELPROMPT_DROP_TOXIC": "yes",
        "PARALLELPROMPT_LANGUAGES": "English, French,",
        "PARALLELPROMPT_ENDPOINT_URL": "",
        "PARALLELPROMPT_MAX_COST_USD": "",
    }
    s = parse(["common", "ingest", "worker"], [], env)
    assert s.ingest.drop_toxic is True
    assert s.ingest.languages == ("English", "French")
    assert s.worker.endpoint_url is None and s.worker.max_cost_usd is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PARALLELPROMPT_RPM": "fast"}, "PARALLELPROMPT_RPM"),
        ({"PARALLELPROMPT_API": "grpc"}, "not one of"),
        ({"PARALLELPROMPT_QUIET": "maybe"}, "boolean"),
        ({"PARALLELPROMPT_CONCURRENCY": "0"}, "--concurrency must be positive"),
        ({"PARALLELPROMPT_TEMPERATURE": "1.5"}, r"--temperature must be in \[0, 1\], got 1.5"),
        ({"AWS_REGION": "useast1"}, "--region 'useast1' is not an AWS region name"),
        ({"PARALLELPROMPT_SKIP": "-1"}, "--skip must be >= 0, got -1"),
        ({"PARALLELPROMPT_EMULATOR_INITIAL_FILL": "2"}, "emulator --initial-fill must be in"),
    ],
)
def test_bad_values_are_clear_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(cfg.SettingsError, match=message):
        emulator = any(k.startswith("PARALLELPROMPT_EMULATOR_") for k in env)
        parse(["emulator"] if emulator else ["common", "ingest", "contract", "worker"], [], env)


def test_each_section_declares_the_rules_of_its_values() -> None:
    """The sections own their constraints (``opt(..., rule=...)``); ``check`` only applies them."""
    from parallelprompt.common.options import positive

    ruled = {
        (o.section, o.name)
        for section in cfg._SECTION_TYPES
        for o in cfg.options(section)
        if o.rule
    }
    assert {("worker", "rpm"), ("contract", "temperature"), ("ingest", "batch_rows")} <= ruled
    assert {("emulator", "port"), ("worker", "region")} <= ruled
    assert positive(0) == "must be positive, got 0" and positive(None) is None


def test_original_pipeline_aws_names_are_aliases() -> None:
    env = {"AWS_KEY": "AKIAEXAMPLE", "AWS_SECRET_KEY": "s3cr3t"}
    assert cfg.apply_aws_aliases(env) == ["AWS_KEY", "AWS_SECRET_KEY"]
    assert env["AWS_ACCESS_KEY_ID"] == "AKIAEXAMPLE" and env["AWS_SECRET_ACCESS_KEY"] == "s3cr3t"
    both = {"AWS_KEY": "old", "AWS_ACCESS_KEY_ID": "standard"}
    assert cfg.apply_aws_aliases(both) == []
    assert both["AWS_ACCESS_KEY_ID"] == "standard"


def test_configuration_reference_is_current() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    assert cfg.reference_table() in doc, (
        "docs/configuration.md is stale: regenerate its table with "
        "`parallelprompt config-reference`"
    )
