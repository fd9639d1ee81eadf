"""The English catalogue: complete, compiled, placeholder-safe, and actually used at run time."""

from __future__ import annotations

import string
from decimal import Decimal
from io import BytesIO

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from app import formatting, i18n_tools
from app.errors import ValidationError
from app.i18n import _, language, ngettext, set_language
from app.vehicle_rules import decode_vin

Fields = list[tuple[str, str, str | None]]


def _po() -> Catalog:
    with i18n_tools.po_path("en").open("rb") as fh:
        return read_po(fh, locale="en")


def _plain(value: object) -> object:
    """Plural ids and strings come back as lists from a .mo and as tuples from a .po."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _translations(catalog: Catalog) -> dict[object, object]:
    """msgid → msgstr of every real message (the header, msgid "", carries dates and is left out)."""
    return {_plain(m.id): _plain(m.string) for m in catalog if m.id}


def _fields(text: str) -> Fields:
    """The ``str.format`` fields of ``text``: name, format spec and conversion, sorted."""
    return sorted(
        (name, spec or "", conv) for _lit, name, spec, conv in string.Formatter().parse(text) if name is not None
    )


def _translated(string: object) -> bool:
    """A msgstr (or every plural form of it) is filled in."""
    return all(string) if isinstance(string, tuple) else bool(string)


def test_every_message_of_the_code_is_translated() -> None:
    assert i18n_tools.missing("en") == []


def test_catalogue_has_no_fuzzy_or_empty_entries() -> None:
    catalog = _po()
    assert not catalog.fuzzy
    assert [m.id for m in catalog if m.id and m.fuzzy] == []
    assert [m.id for m in catalog if m.id and not _translated(m.string)] == []


def test_compiled_mo_matches_the_po() -> None:
    """Forgetting ``make i18n`` after editing the .po leaves a stale .mo: the app would show old texts."""
    po = _po()
    buffer = BytesIO()
    write_mo(buffer, po)
    buffer.seek(0)
    expected = _translations(read_mo(buffer))
    mo_path = i18n_tools.po_path("en").with_suffix(".mo")
    with mo_path.open("rb") as fh:
        shipped = _translations(read_mo(fh))
    assert expected  # the catalogue really has translations, so an empty .mo cannot pass
    assert shipped == expected


def test_translations_keep_the_placeholders_of_their_msgid() -> None:
    problems = []
    for message in _po():
        if not message.id or not _translated(message.string):
            continue  # untranslated entries are the business of the completeness test
        sources = list(message.id) if isinstance(message.id, tuple) else [message.id]
        targets = list(message.string) if isinstance(message.string, tuple) else [message.string]
        if len(sources) != len(targets):
            problems.append(f"{sources[0]!r}: {len(targets)} forms for {len(sources)} msgids")
            continue
        for source, target in zip(sources, targets, strict=True):
            try:
                if _fields(source) != _fields(target):
                    problems.append(f"{source!r}: {_fields(source)} ≠ {_fields(target)}")
            except ValueError as exc:  # unbalanced braces would crash .format() at run time
                problems.append(f"{source!r}: {exc}")
    assert problems == []


def test_placeholder_comparison_detects_renamed_and_dropped_fields() -> None:
    assert _fields("Zeile {row}: {message}") != _fields("Row {line}: {message}")
    assert _fields("{hours}:{minutes:02d} Std.") != _fields("{hours}:{minutes} h")
    assert _fields("{a} und {b}") == _fields("{b} and {a}")


def test_switching_to_english_translates_errors_ui_and_formats() -> None:
    try:
        set_language("en")
        assert language() == "en"
        with pytest.raises(ValidationError) as caught:
            decode_vin("")
        assert caught.value.message == "Please enter a VIN."
        assert str(ValidationError("Die IBAN „{iban}“ ist ungültig.", iban="DE00")) == "The IBAN “DE00” is invalid."
        assert _("Speichern") == "Save"
        assert ngettext("{n} Termin", "{n} Termine", 3).format(n=3) == "3 appointments"
        assert ngettext("{n} Termin", "{n} Termine", 1).format(n=1) == "1 appointment"
        assert formatting.money(Decimal("1234.5")) == "€1,234.50"
    finally:
        set_language("de")
    assert language() == "de"
    with pytest.raises(ValidationError) as caught:
        decode_vin("")
    assert caught.value.message == "Bitte eine FIN eingeben."
    assert _("Speichern") == "Speichern"
    assert formatting.money(Decimal("1234.5")).replace("\xa0", " ") == "1.234,50 €"
