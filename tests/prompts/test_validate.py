from __future__ import annotations

from dataclasses import replace

from parallelprompt.prompts import (
    DEFAULT,
    PROFILES,
    Candidate,
    CategorySet,
    Contract,
    Cue,
    FailureReason,
    Outcome,
    RuleProfile,
    SchemaRule,
    validate,
)
from parallelprompt.prompts.profiles import Case

CATS = CategorySet.load()


def test_a_raising_rule_is_contained() -> None:
    def broken(case: Case) -> FailureReason | None:
        raise RuntimeError("bug in a user rule")

    profile = replace(DEFAULT, name="broken", schema=(SchemaRule("broken", "raises", broken),))
    cand = Candidate(True, "Translation", data=("a", "b"), template="{data}")
    verdict = validate("Translate: a, b", cand, profile, CATS)
    assert verdict.outcome is Outcome.FAILED
    assert verdict.reason == FailureReason.rule_error
    assert not verdict.validation_passed


def test_a_user_profile_plugs_in() -> None:
    lenient = RuleProfile(
        name="lenient",
        description="Anything the model says yes to passes as medium.",
        schema=(),
        high=(),
        medium=(Cue("always", "always true", lambda case: True),),
    )
    contract = Contract.load(rules=lenient)
    verdict = contract.judge("hello", '{"parallelizable": true}', "end_turn")
    assert verdict.outcome is Outcome.MEDIUM and verdict.tier_label == "medium_confidence"
    assert contract.version != Contract.load().version
    assert "lenient" not in PROFILES  # registering is the user's choice


def test_verdict_category_is_normalised() -> None:
    cand = Candidate(
        True,
        "named_entity_extraction",
        True,
        "x",
        None,
        "Find entities: {data}",
        None,
        ("NAME_1 met Bob.", "Bob left."),
    )
    verdict = validate(
        "Extract entities from these sentences: NAME_1 met Bob. Bob left.", cand, DEFAULT, CATS
    )
    assert verdict.category == "Named Entity Recognition"
    assert verdict.is_novel_category is False
    assert verdict.outcome is Outcome.HIGH


def test_deanonymised_items_are_grounded_through_serial() -> None:
    prompt = "Translate these sentences:\n1. NAME_1 likes tea.\n2. NAME_2 likes coffee."
    serial = "Translate these sentences:\n1. Maria likes tea.\n2. Tom likes coffee."
    good = Candidate(
        True,
        "Translation",
        serial=serial,
        template="Translate: {data}",
        data=("Maria likes tea.", "Tom likes coffee."),
    )
    assert validate(prompt, good, DEFAULT, CATS).outcome is Outcome.HIGH
    bad = replace(good, data=("Maria likes tea.", "Tom likes beer."))
    assert validate(prompt, bad, DEFAULT, CATS).reason == FailureReason.items_not_in_prompt


def test_grounding_ignores_case_quotes_and_spacing() -> None:
    prompt = "Translate: “Good   morning”, ‘Thank you’"
    cand = Candidate(
        True, "Translation", template="Translate: {data}", data=('"good morning"', "thank you")
    )
    assert validate(prompt, cand, DEFAULT, CATS).reason != FailureReason.items_not_in_prompt


def test_model_negative_is_not_parallelizable_under_both() -> None:
    cand = Candidate(False)
    for profile in PROFILES.values():
        verdict = validate("anything", cand, profile, CATS)
        assert verdict.outcome is Outcome.NOT_PARALLELIZABLE
        assert verdict.tier_label == "not_parallelizable" and verdict.reason is None
