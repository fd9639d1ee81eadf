"""Translations for all Python strings (gettext; German source texts, English catalogue).

The msgids are the German texts themselves, because German is the product's first language;
``resources/i18n/en/LC_MESSAGES/carbot.po`` translates them to English. ``N_`` marks a string for
extraction without translating it (for module-level constants translated at display time).
"""

from __future__ import annotations

import gettext
import os
from importlib import resources

DOMAIN = "carbot"
LANGUAGES = ("de", "en")


class _State:
    """The process-wide language (one desktop user at a time; the server passes languages explicitly)."""

    translations: gettext.NullTranslations = gettext.NullTranslations()
    language = "de"


def _load(lang: str) -> gettext.NullTranslations:
    if lang == "de":
        return gettext.NullTranslations()
    mo = resources.files("resources").joinpath("i18n", lang, "LC_MESSAGES", f"{DOMAIN}.mo")
    try:
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    except FileNotFoundError:
        return gettext.NullTranslations()


def set_language(lang: str) -> None:
    """Switch the process-wide language ("de" or "en"); unknown languages fall back to German."""
    lang = lang if lang in LANGUAGES else "de"
    _State.translations = _load(lang)
    _State.language = lang


def language() -> str:
    """The current language code."""
    return _State.language


def locale_name() -> str:
    """Babel locale for number, date and currency formats."""
    return "de_DE" if _State.language == "de" else "en_GB"


def _(message: str) -> str:
    """Translate ``message`` into the current language."""
    return _State.translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate with plural forms."""
    return _State.translations.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark for extraction only."""
    return message


set_language(os.environ.get("CARBOT_LANG", "de"))
