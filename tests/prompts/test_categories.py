from __future__ import annotations

import json
from pathlib import Path

import pytest

from parallelprompt import prompts
from parallelprompt.prompts import CANONICAL_CATEGORIES, CategorySet, Contract, normalise_category

CATS = CategorySet.load()


def test_canonical_order() -> None:
    assert CATS.names == CANONICAL_CATEGORIES
    assert CANONICAL_CATEGORIES[0] == "Repeated Generation"
    assert len(CANONICAL_CATEGORIES) == 7


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Named Entity Extraction", "Named Entity Recognition"),
        ("named_entity_recognition", "Named Entity Recognition"),
        ("NER", "Named Entity Recognition"),
        ("Named Entity Recognition (NER)", "Named Entity Recognition"),
        ("Language Translation", "Translation"),
        ("translations", "Translation"),
        ("Grammar Correction", "Language Correction"),
        ("  reading-comprehension. ", "Reading Comprehension"),
        ("Question Answering", "Reading Comprehension"),
        ("KEYWORD EXTRACTION", "Keyword Extraction"),
        ("Sentiment Classification", "Sentiment Analysis"),
        ("Repeated Generations", "Repeated Generation"),
    ],
)
def test_known_labels_are_not_novel(label: str, expected: str) -> None:
    assert normalise_category(label, CATS) == (expected, False)


def test_novel_labels_get_one_stable_form() -> None:
    forms = {
        normalise_category(label, CATS)
        for label in (
            "Comparative analysis",
            "comparative_analysis",
            "Comparative Analysis",
            "COMPARATIVE-ANALYSIS",
            " comparative  analysis.",
        )
    }
    assert forms == {("Comparative Analysis", True)}


@pytest.mark.parametrize("label", [None, "", "  ", "None", "N/A", "null", "Unknown"])
def test_empty_labels(label: str | None) -> None:
    assert normalise_category(label, CATS) == (None, False)


def test_user_categories_feed_prompt_normaliser_and_version(tmp_path: Path) -> None:
    data = json.loads(Path(prompts.__file__).with_name("categories.json").read_text("utf-8"))
    data["categories"].append(
        {
            "name": "Code Generation",
            "definition": "Several independent functions to write.",
            "synonyms": ["Programming"],
            "grounded_data": False,
        }
    )
    path = tmp_path / "cats.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    contract = Contract.load(categories_path=path)
    assert "Several independent functions to write." in contract.system_prompt
    assert normalise_category("programming", contract.categories) == ("Code Generation", False)
    assert contract.version != Contract.load().version


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"categories": [{"name": "X"}]}',
        '{"categories": [{"name": "X", "definition": "d", "synonyms": "s"}]}',
        '{"categories": [{"name": "X", "definition": "d", "uses_n": "yes"}]}',
    ],
)
def test_bad_categories_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "cats.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match="categor"):
        CategorySet.load(path)


def test_missing_categories_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        CategorySet.load(tmp_path / "nope.json")
