"""The contract: system prompt + categories + rule profile, versioned by a content hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import lean, requests
from .categories import CategorySet, normalise_category
from .errors import ContractError
from .parse import parse_answer
from .profiles import PROFILES, RuleProfile
from .published import parse_published
from .types import FailureReason, Outcome, ParseFailure, Verdict
from .validation import validate

CATEGORIES_PLACEHOLDER = "{categories}"
_BUNDLED_PROMPT = Path(__file__).with_name("system_prompt.md")


def render_system_prompt(template: str, categories: CategorySet) -> str:
    """Fill the `{categories}` placeholder (plain replacement: the text is full of JSON braces)."""
    return template.replace(CATEGORIES_PLACEHOLDER, categories.render())


def resolve_profile(rules: str | RuleProfile) -> RuleProfile:
    if isinstance(rules, RuleProfile):
        return rules
    try:
        return PROFILES[rules]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ContractError(f"unknown rule profile {rules!r} (known: {known})") from None


@dataclass(frozen=True)
class Contract:
    """What we ask the model and how we judge its answer. `version` changes with the prompt
    text, the categories or the rule profile, and is recorded with every result."""

    system_prompt: str
    categories: CategorySet
    profile: RuleProfile
    version: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha256()
        for part in (self.system_prompt, self.categories.fingerprint(), self.profile.fingerprint()):
            digest.update(part.encode("utf-8", "surrogatepass"))
            digest.update(b"\x00")
        object.__setattr__(self, "version", digest.hexdigest()[:12])

    @classmethod
    def load(
        cls,
        system_prompt_path: Path | None = None,
        categories_path: Path | None = None,
        rules: str | RuleProfile = "default",
    ) -> Contract:
        """The bundled prompt and categories, or a user's files; ContractError on bad input."""
        profile = resolve_profile(rules)
        categories = CategorySet.load(categories_path)
        path = _BUNDLED_PROMPT if system_prompt_path is None else Path(system_prompt_path)
        try:
            template = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ContractError(f"cannot read system prompt {path}: {exc}") from exc
        if not template.strip():
            raise ContractError(f"system prompt {path} is empty")
        return cls(render_system_prompt(template, categories), categories, profile)

    def with_profile(self, rules: str | RuleProfile) -> Contract:
        """The same prompt and categories judged under another profile (for revalidate)."""
        return replace(self, profile=resolve_profile(rules))

    def estimate_input_tokens(self, prompt: str) -> int:
        """Conservative input tokens of one request (system prompt + prompt)."""
        return requests.estimate_tokens(self.system_prompt) + requests.estimate_tokens(prompt)

    def judge(self, prompt: str, model_text: str | None, stop_reason: str | None) -> Verdict:
        """Parse + validate + tier + normalise category. Never raises."""
        if self.profile.decoding == "published":
            parsed = parse_published(model_text, stop_reason)
        else:
            parsed = parse_answer(model_text, stop_reason)
        if isinstance(parsed, ParseFailure):
            return Verdict(
                Outcome.UNPARSEABLE, parsed.reason, "unparseable", False, None, None, False
            )
        try:
            parsed = lean.expand(prompt, parsed)
            return validate(prompt, parsed, self.profile, self.categories)
        except Exception:  # validate guards its rules; this is the last line of defence
            category, novel = normalise_category(None, self.categories)
            return Verdict(
                Outcome.FAILED,
                FailureReason.rule_error,
                self.profile.labels.schema_failure,
                False,
                parsed,
                category,
                novel,
            )
