# ruff: noqa: C901, SIM102, SIM114  (kept statement by statement like the published code)
"""An oracle: the published ParallelPrompt pipeline's answer handling, re-implemented
statement by statement from data_curation/find_parallelprompts.py (call_bedrock_api's JSON
extraction, is_parallelizable's exception fallback, validate_parallelizable). Only the side
effects (printing, statistics) are left out, except where they raise: the statistics are
dicts keyed by the category, so an unhashable category raised TypeError there.

`published(prompt, text)` returns (stage, tier, passed):
- stage "fallback": no object decoded (the published code put a silent "not parallelizable",
  its bookkeeping `result["index"] = ...` raised on a decoded list or string, or json raised
  RecursionError out of the decoding);
- stage "crash": the validator raised; is_parallelizable recorded "not parallelizable";
- stage "said_no", "schema", "cues": the validator's own paths.
"""

from __future__ import annotations

import json
import re
from typing import Any

VERBS = (
    r"(generate|create|write|make|give|provide|list|show|tell|name|identify|find|spot|"
    r"translate|correct|develop|produce|craft|prepare|construct|compile|analyze|evaluate|"
    r"compare|contrast|offer|suggest|need|want|require|discuss)"
)
OBJECTS = (
    r"(examples?|stories?|variations?|ideas?|options?|questions?|sentences?|paragraphs?|items?|"
    r"tasks?|entities?|keywords?|words?|phrases?|translations?|summaries?|reports?|reviews?|"
    r"analyses?|cases?|scenarios?|characters?|profiles?|descriptions?|suggestions?|"
    r"recommendations?)"
)


def decode(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        match = re.search(r"```json\s*(.*?)\s*```", text, re.DOTALL)
        if match:
            try:
                return json.loads(match.group(1))
            except json.JSONDecodeError:
                pass
        match = re.search(r"\{.*\}", text, re.DOTALL)
        if match:
            try:
                return json.loads(match.group(0))
            except json.JSONDecodeError:
                return None
        return None


class _Stats:
    def __init__(self) -> None:
        self.failed: dict[Any, int] = {}
        self.passed: dict[Any, int] = {}

    @staticmethod
    def bump(table: dict[Any, int], category: Any) -> None:
        if category in table:  # raises TypeError for an unhashable category, as published
            table[category] += 1
        else:
            table[category] = 1


def validate(result: dict[str, Any], prompt: str) -> tuple[str, str, bool]:
    stats = _Stats()
    if not result.get("parallelizable", False):
        return ("said_no", "not_parallelizable", False)
    category = result.get("category", "Unknown")
    schema_valid = True
    if result.get("data") is not None and result.get("n") is not None:
        schema_valid = False
    data = result.get("data")
    if data is not None:
        if not isinstance(data, list):
            schema_valid = False
        elif len(data) < 2:
            schema_valid = False
        elif any(not isinstance(item, str) for item in data):
            schema_valid = False
    n = result.get("n")
    if n is not None:
        if not isinstance(n, int | float) or n < 2:
            schema_valid = False
    template = result.get("template")
    if template is not None:
        if category == "Repeated Generation" and "{n}" in template:
            schema_valid = False
        elif category != "Repeated Generation" and (
            "{data}" not in template and "{context}" not in template
        ):
            schema_valid = False
    if not schema_valid:
        stats.bump(stats.failed, category)
        return ("schema", "not_parallelizable", False)

    lower = prompt.lower()
    numeric = bool(re.search(rf"\b{VERBS}?\s*\d+\s*{OBJECTS}\b", lower))
    markers = bool(
        re.search(
            r"\b(following|these|each of|all of|todos?|las?s?|die|der|das|les?|la|il|и|и|и)\s+"
            r"(questions?|items?|prompts?|sentences?|paragraphs?|tasks?|texts?|statements?|"
            r"passages?|preguntas?|frases?|fragen|sätze|questions|phrases|вопросы|"
            r"предложения)\b",
            lower,
        )
    )
    numbered = len(re.findall(r"(?:\d+[\.\)\:]|(?:\n[-•*]\s+))", prompt)) > 1
    questions = len(re.findall(r"\?[\s\n]+", prompt)) > 1
    bullets = len(re.findall(r"(\n\s*[-•*]\s+|\n\s*\d+[\.\)]\s+)", prompt)) > 1
    multiplicity = bool(
        re.search(
            r"\b(multiple|several|each|all|every|various|respectively|varios?s?|plusieurs|"
            r"mehrere|多个|многие)\b",
            lower,
        )
    )
    comma = bool(re.search(r"\b\w+\b\s*,\s*\b\w+\b\s*(?:,\s*(?:and\s+)?\b\w+\b)+", lower))
    for_each = bool(re.search(r"\bfor\s+(every|each)\b", lower))
    plural = bool(re.search(r"\b\w+s\b\s*[:;]\s*\b", lower))
    data_array = result.get("data", [])
    parallel_data = isinstance(data_array, list) and len(data_array) > 1
    n_value = result.get("n")
    multiple_n = isinstance(n_value, int | float) and n_value > 1
    high = (
        numeric
        or markers
        or numbered
        or bullets
        or questions
        or (multiplicity and (parallel_data or multiple_n))
    )
    medium = (
        comma
        or for_each
        or plural
        or category in ["Reading Comprehension", "Named Entity Recognition", "Translation"]
        or (parallel_data and len(data_array) >= 3)
    )
    if high:
        stats.bump(stats.passed, category)
        return ("cues", "high_confidence", True)
    if medium:
        stats.bump(stats.passed, category)
        return ("cues", "medium_confidence", True)
    stats.bump(stats.failed, category)
    return ("cues", "low_confidence", False)


def published(prompt: str, text: str) -> tuple[str, str, bool]:
    try:
        result = decode(text)
    except Exception:  # RecursionError: the API wrapper retried, then gave up; nothing decoded
        return ("fallback", "not_parallelizable", False)
    if not isinstance(result, dict):  # the fallback, or `result["index"] = ...` raising
        return ("fallback", "not_parallelizable", False)
    try:
        return validate(result, prompt)
    except Exception:
        return ("crash", "not_parallelizable", False)
