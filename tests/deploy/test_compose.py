"""docker-compose.yml and the Dockerfile: structure, and every command they run exists and
accepts its flags. No Docker engine runs here; `docker compose config` runs when available."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from parallelprompt import settings as cfg
from parallelprompt.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("common", "ingest", "contract", "worker", "emulator", "output")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


#: The AWS SDK's own variables (the rehearsal overrides them with dummies).
AWS_SDK_VARS = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
}


def known_env_vars() -> set[str]:
    return {o.env for section in SECTIONS for o in cfg.options(section)}


def test_services_and_profiles(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"producer", "worker", "rehearsal", "emulator", "cli"}
    assert services["emulator"]["profiles"] == ["local"]
    assert services["rehearsal"]["profiles"] == ["local"]
    assert services["worker"]["profiles"] == ["bedrock"]
    assert "profiles" not in services["producer"]
    assert services["producer"]["restart"] == "no"
    for name in ("worker", "rehearsal", "emulator"):
        # a fatal configuration error (exit 2) is retried a few times, never forever
        restart = services[name]["restart"]
        assert re.fullmatch(r"on-failure:[1-5]", restart), (name, restart)
    for name in ("worker", "rehearsal"):
        # workers start after the one-shot ingest finished
        dep = services[name]["depends_on"]["producer"]["condition"]
        assert dep == "service_completed_successfully"
        # scaling: no fixed container name or host port on the worker
        assert "container_name" not in services[name] and "ports" not in services[name]


def _active(compose: dict[str, Any], profile: str | None) -> dict[str, Any]:
    """The services `docker compose [--profile P] up` starts."""
    return {
        name: svc
        for name, svc in compose["services"].items()
        if "profiles" not in svc or profile in svc["profiles"]
    }


def _runs_worker(svc: dict[str, Any]) -> bool:
    return bool(svc["command"][:2] == ["parallelprompt", "work"])


def test_the_local_profile_cannot_reach_aws(compose: dict[str, Any]) -> None:
    """Issue 11 §3: `--profile local up` wires every worker to the emulator by itself, on a
    network with no route out; no worker runs without a profile."""
    assert not any(_runs_worker(s) for s in _active(compose, None).values())
    local = _active(compose, "local")
    workers = [s for s in local.values() if _runs_worker(s)]
    assert workers and "worker" not in local
    for svc in workers:
        env = svc["environment"]
        assert env["PARALLELPROMPT_ENDPOINT_URL"] == "http://emulator:8787"
        assert env["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] == "http://emulator:8787"
        assert env["PARALLELPROMPT_BACKEND"] == "emulator"
        assert env["AWS_ACCESS_KEY_ID"] == "emulator"  # .env's keys never reach it
        networks = svc["networks"]
        assert networks and all(compose["networks"][n]["internal"] is True for n in networks)
    assert local["emulator"]["networks"] == workers[0]["networks"]
    bedrock = _active(compose, "bedrock")
    assert bedrock["worker"]["environment"]["PARALLELPROMPT_BACKEND"] == "bedrock"
    assert "emulator" not in bedrock and "rehearsal" not in bedrock


def test_database_on_a_named_volume(compose: dict[str, Any]) -> None:
    assert "data" in compose["volumes"]
    for name in ("producer", "worker", "rehearsal"):
        mounts = compose["services"][name]["volumes"]
        assert "data:/data" in mounts
        env = compose["services"][name].get("environment", {})
        assert env.get("PARALLELPROMPT_DB", "/data/parallelprompt.db").startswith("/data/")
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "PARALLELPROMPT_DB=/data/parallelprompt.db" in dockerfile


def test_env_file_and_example(compose: dict[str, Any]) -> None:
    env_files = compose["services"]["worker"]["env_file"]
    assert any((e["path"] if isinstance(e, dict) else e) == ".env" for e in env_files)
    example = (ROOT / ".env.example").read_text()
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    for needed in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "PARALLELPROMPT_MODEL",
        "PARALLELPROMPT_RPM",
        "PARALLELPROMPT_TPM",
    ):
        assert needed in names
    aws = {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "HF_TOKEN",
    }
    unknown = {n for n in names if n not in aws} - known_env_vars()
    assert not unknown, f".env.example names settings that do not exist: {unknown}"


def test_worker_stop_grace_exceeds_drain_and_health(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    grace = float(worker["environment"]["PARALLELPROMPT_GRACE_SECONDS"].split(":-")[-1].strip("}"))
    stop = worker["stop_grace_period"]
    assert stop.endswith("s") and float(stop[:-1]) > grace
    test = worker["healthcheck"]["test"]
    assert test[:4] == ["CMD", "python", "-m", "parallelprompt.healthcheck"]
    assert test[4].endswith(":9100/healthz")
    assert "9100" in worker["command"]


def _command_parser(name: str) -> argparse.ArgumentParser:
    (command,) = [c for c in COMMANDS if c.name == name]
    parser = argparse.ArgumentParser(prog=f"parallelprompt {name}", exit_on_error=False)
    cfg.add_arguments(parser, command.sections)
    return parser


@pytest.mark.parametrize("service", ["producer", "worker", "rehearsal", "emulator"])
def test_every_command_exists_and_accepts_its_flags(compose: dict[str, Any], service: str) -> None:
    command = compose["services"][service]["command"]
    assert command[0] == "parallelprompt"  # the one entry point
    name, flags = command[1], command[2:]
    _command_parser(name).parse_args(flags)  # raises on an unknown flag or a bad value
    # and the real entry point runs
    done = subprocess.run(
        [sys.executable, "-m", "parallelprompt", name, *flags, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    for flag in flags:
        if flag.startswith("--"):
            assert flag in done.stdout, f"parallelprompt {name} --help does not list {flag}"
    env = compose["services"][service].get("environment", {})
    unknown = set(env) - known_env_vars() - AWS_SDK_VARS
    assert not unknown, f"{service} sets unknown settings {unknown}"


def test_healthcheck_module_answers() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "parallelprompt.healthcheck", "http://127.0.0.1:9/healthz"],
        cwd=ROOT,
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 1  # nothing listens there: unhealthy, not a crash


def test_dockerfile() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.1[1-9]-slim", text, re.MULTILINE)
    user = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert user and user[-1] not in {"root", "0"}
    assert "HEALTHCHECK" in text and "pip install ." in text
    for copied in re.findall(r"^COPY (\S+) ", text, re.MULTILINE):
        if copied != "pyproject.toml" and not copied.startswith("--"):
            assert (ROOT / copied).exists(), copied
    # every package the project installs lives under parallelprompt/, which is copied
    assert "COPY parallelprompt ./parallelprompt" in text


PROFILES = ("--profile", "local", "--profile", "bedrock")


def test_admin_cli_service_starts_nothing_else(compose: dict[str, Any]) -> None:
    """`docker compose run --rm cli parallelprompt stats` must not re-run the producer."""
    cli = compose["services"]["cli"]
    assert "depends_on" not in cli
    assert cli["profiles"] == ["cli"]  # not part of `docker compose up`
    assert cli["command"][0] == "parallelprompt"
    assert "data:/data" in cli["volumes"]


def test_minimum_compose_version_is_stated(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "Compose v2.24" in text
    assert "name" in compose  # the features that need it are really used
    assert any(isinstance(e, dict) and "required" in e for e in compose["x-app"]["env_file"])
    assert "Compose v2.24" in (ROOT / "docs" / "deploy.md").read_text()


def test_comments_match_the_defaults() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    default = re.search(r"PARALLELPROMPT_EXIT_WHEN_EMPTY:-(\d)", text)
    assert default and default.group(1) == "1"
    comment = text[: default.start()].rsplit("environment:", 1)[1]
    assert "1 (the default): a worker exits 0 once the queue is drained" in comment
    assert cfg.WorkerSettings().exit_when_empty is True


def test_dockerfile_is_multi_stage_with_a_writable_workdir() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)(?: AS (\w+))?", text, re.MULTILINE)
    assert len(stages) == 2 and stages[0][1] == "build"
    runtime = text.split("\nFROM ", 2)[2]
    # the runtime stage gets the installed virtualenv only: no sources, build/ or egg-info
    assert re.findall(r"^COPY (.*)$", runtime, re.MULTILINE) == ["--from=build /opt/venv /opt/venv"]
    workdir = re.findall(r"^WORKDIR (\S+)", runtime, re.MULTILINE)[-1]
    chowned = re.search(r"chown parallelprompt ([^\n]+)", runtime)
    assert chowned and workdir in chowned.group(1).split()
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "build" in ignored and "*.egg-info" in ignored


MIN_COMPOSE = (2, 24)


def compose_version(text: str) -> tuple[int, int] | None:
    """``(major, minor)`` from `docker compose version` / `docker-compose version` output."""
    found = re.search(r"v?(\d+)\.(\d+)\.\d+", text)
    return (int(found.group(1)), int(found.group(2))) if found else None


def test_compose_version_parsing() -> None:
    assert compose_version("Docker Compose version v2.24.6") == (2, 24)
    assert compose_version("docker-compose version 1.29.2, build unknown") == (1, 29)
    assert compose_version("Docker Compose version 2.30.3+ds1-1") == (2, 30)


def _compose_tool() -> list[str] | None:
    """`docker compose` (the plugin) or a standalone `docker-compose` binary, if >= v2.24."""
    candidates = []
    docker = shutil.which("docker")
    if docker:
        candidates.append([docker, "compose"])
    standalone = shutil.which("docker-compose")
    if standalone:
        candidates.append([standalone])
    for tool in candidates:
        done = subprocess.run([*tool, "version"], capture_output=True, text=True)
        version = compose_version(done.stdout) if done.returncode == 0 else None
        if version is not None and version >= MIN_COMPOSE:
            return tool
    return None


def test_docker_compose_config_when_available(tmp_path: Path) -> None:
    tool = _compose_tool()
    if tool is None:
        pytest.skip(
            "no Docker Compose >= v2.24 (plugin or standalone) on this machine; the tests "
            "above still checked the file"
        )
    done = subprocess.run(
        [*tool, "-f", str(ROOT / "docker-compose.yml"), *PROFILES, "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
