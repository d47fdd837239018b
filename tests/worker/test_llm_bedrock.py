"""The Bedrock adapter's request bodies (pure) and the adapter registry."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from parallelprompt.prompts import Contract
from parallelprompt.worker.llm import ADAPTERS, Request, opener
from parallelprompt.worker.llm.bedrock import converse_request, invoke_body

CONTRACT = Contract.load()


def test_converse_request_shape() -> None:
    req = converse_request(Request(CONTRACT.system_prompt, "Give me 5 ideas", 1024, 0.2))
    assert req == {
        "system": [{"text": CONTRACT.system_prompt}],
        "messages": [{"role": "user", "content": [{"text": "Give me 5 ideas"}]}],
        "inferenceConfig": {"maxTokens": 1024, "temperature": 0.2},
    }
    low = converse_request(Request(CONTRACT.system_prompt, "x", 300, 0.0))
    assert low["inferenceConfig"] == {"maxTokens": 300, "temperature": 0.0}


def test_invoke_body_shape() -> None:
    body = invoke_body(Request(CONTRACT.system_prompt, "Give me 5 ideas", 512, 0.2))
    assert body["anthropic_version"] == "bedrock-2023-05-31"
    assert body["max_tokens"] == 512 and body["temperature"] == 0.2
    assert body["system"] == CONTRACT.system_prompt
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Give me 5 ideas"}]}
    ]
    json.dumps(body)  # JSON-serialisable as the InvokeModel body


def test_registry_names_the_adapters_and_refuses_others() -> None:
    assert "bedrock" in ADAPTERS
    assert callable(opener("bedrock"))
    with pytest.raises(ValueError, match="unknown LLM backend 'nope'"):
        opener("nope")


def test_the_pool_and_the_port_import_no_sdk() -> None:
    """aioboto3 is imported only when the Bedrock adapter is chosen."""
    code = (
        "import sys, parallelprompt.worker.pool, parallelprompt.worker.llm, "
        "parallelprompt.worker.errors; bad = [m for m in ('aioboto3', 'botocore', "
        "'parallelprompt.worker.llm.bedrock') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
