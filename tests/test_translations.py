"""Tests that every language offers the same texts, with the same placeholders."""

from __future__ import annotations

import json
from pathlib import Path
import re

TRANSLATIONS = Path(__file__).parents[1] / "custom_components" / "home_guardian" / "translations"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def flatten(tree: dict[str, object], prefix: str = "") -> dict[str, str]:
    """Return every text of a translation file by its dotted key."""
    texts: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            texts |= flatten(value, f"{prefix}{key}.")
        else:
            texts[f"{prefix}{key}"] = str(value)
    return texts


def test_every_language_is_complete() -> None:
    """Each translation has exactly the English keys and keeps their placeholders."""
    english = flatten(json.loads((TRANSLATIONS / "en.json").read_text()))
    languages = sorted(TRANSLATIONS.glob("*.json"))
    assert {path.stem for path in languages} >= {"en", "zh-Hans"}
    for path in languages:
        texts = flatten(json.loads(path.read_text()))
        assert texts.keys() == english.keys(), path.name
        for key, text in texts.items():
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(english[key])), key


def test_action_texts_hold_no_braces() -> None:
    """The frontend reads action texts as message formats: a brace breaks them (no placeholders)."""
    for path in sorted(TRANSLATIONS.glob("*.json")):
        texts = flatten(json.loads(path.read_text())["services"])
        assert [key for key, text in texts.items() if "{" in text or "}" in text] == [], path.name
