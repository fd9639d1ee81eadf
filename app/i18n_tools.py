"""Maintenance of the translation catalogue (``make i18n``): extract, update, compile, check.

Message ids are German texts passed to ``_()``/``N_()`` or as the first argument of a domain error
(``ValidationError("…", field=…)``), so extraction knows those callables as keywords too.
"""

from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
I18N = ROOT / "resources" / "i18n"
PACKAGES = ("app", "ui", "drivers", "sync")
ERROR_KEYWORDS = (
    "WorkshopError",
    "ValidationError",
    "PermissionDenied",
    "NotFound",
    "InvalidTransition",
    "ConflictError",
    "DatabaseError",
    "DatabaseCorrupt",
    "DatabaseLocked",
    # The desktop's sync, chat and billing clients and the OBD driver: WorkshopErrors whose first
    # argument is the German message id (translated when shown).
    "SyncError",
    "SyncAuthError",
    "SyncConflict",
    "SyncUnavailable",
    "BotMuted",
    "PlanRequired",
    "CursorExpired",
    "LinkLost",
    "LlmError",
    "BillingError",
    "ObdError",  # (not its subclasses: their first argument is a detail, their message an N_() default)
)
KEYWORDS: dict[str, object] = {"_": None, "N_": None, "ngettext": (1, 2)} | {k: (1,) for k in ERROR_KEYWORDS}
LANGS = ("en",)


def extract() -> Catalog:
    """Every translatable message of our packages."""
    catalog = Catalog(project="CarBot Werkstatt", charset="utf-8")
    for package in PACKAGES:
        folder = ROOT / package
        if not folder.exists():
            continue
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            folder,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,  # type: ignore[arg-type]
        ):
            if message and message not in ("", ()):
                catalog.add(message)
    return catalog


def po_path(lang: str) -> Path:
    """The .po file of ``lang``."""
    return I18N / lang / "LC_MESSAGES" / "carbot.po"


def update() -> None:
    """Merge newly extracted messages into each language's .po (translations kept)."""
    template = extract()
    for lang in LANGS:
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=lang)
        else:
            catalog = Catalog(locale=lang, project="CarBot Werkstatt", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as fh:
            write_po(fh, catalog, sort_output=True, omit_header=False, width=0)


def compile_all() -> None:
    """Write the .mo files next to the .po files."""
    for lang in LANGS:
        with po_path(lang).open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        po_path(lang).with_suffix(".mo").write_bytes(buffer.getvalue())


def missing(lang: str) -> list[str]:
    """Message ids of the code that ``lang`` does not translate (empty list = complete)."""
    with po_path(lang).open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    result = []
    for message in extract():
        if not message.id:
            continue
        translated = catalog.get(message.id)
        text = translated.string if translated else None
        if not text or (isinstance(text, tuple) and not all(text)) or (translated and translated.fuzzy):
            result.append(message.id if isinstance(message.id, str) else message.id[0])
    return result


def main(argv: list[str]) -> int:
    """``python -m app.i18n_tools extract|update|compile|check``."""
    command = argv[0] if argv else "check"
    if command == "extract":
        sys.stdout.write(f"{len(extract())} messages\n")
    elif command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        gaps = missing("en")
        sys.stdout.write("\n".join(gaps) + ("\n" if gaps else "complete\n"))
        return 1 if gaps else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
