"""Static checks of the web chat widget's files in resources/widget/ (no browser needed).

- Size budget: widget.js + frame.html + frame.js + frame.css ≤ 30 KB gzipped together (issue 6).
- No HTML sinks: message text reaches the page through textContent only, so the scripts contain no
  innerHTML/outerHTML assignment, insertAdjacentHTML, document.write, eval or new Function at all.
- Texts: both scripts define the same keys in German, English, Turkish and Polish, and every text key
  frame.html names exists.
- Nothing stored before consent / no request before the click: no localStorage or cookies anywhere,
  and the loader never talks to the network itself.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest

from sync.protocol_chat import LANGUAGES

WIDGET = Path(__file__).resolve().parents[2] / "resources" / "widget"
ASSETS = ("widget.js", "frame.html", "frame.js", "frame.css")
BUDGET_BYTES = 30 * 1024
SCRIPTS = ("widget.js", "frame.js")


def _read(name: str) -> str:
    return (WIDGET / name).read_text(encoding="utf-8")


def _texts(name: str) -> dict[str, dict[str, Any]]:
    """The JSON text table between ``/*TEXTS*/`` and ``/*END*/`` of a script."""
    match = re.search(r"/\*TEXTS\*/(.*?)/\*END\*/", _read(name), re.S)
    assert match, f"{name} has no /*TEXTS*/ … /*END*/ table"
    table: dict[str, dict[str, Any]] = json.loads(match.group(1))
    return table


def test_gzipped_assets_stay_within_the_budget() -> None:
    sizes = {name: len(gzip.compress((WIDGET / name).read_bytes(), compresslevel=6)) for name in ASSETS}
    assert all(size > 200 for size in sizes.values()), sizes  # the files are real, not placeholders
    assert sum(sizes.values()) <= BUDGET_BYTES, sizes


@pytest.mark.parametrize("name", SCRIPTS)
def test_scripts_have_no_html_sinks(name: str) -> None:
    source = _read(name)
    sinks = re.findall(
        r"\.(?:innerHTML|outerHTML)\s*\+?=|insertAdjacentHTML|document\.write|\beval\s*\(|new\s+Function\b|"
        r"createContextualFragment|DOMParser",
        source,
    )
    assert sinks == [], f"{name} uses HTML sinks: {sinks}"
    assert "textContent" in source


@pytest.mark.parametrize("name", SCRIPTS)
def test_all_languages_define_the_same_texts(name: str) -> None:
    table = _texts(name)
    assert tuple(table) == LANGUAGES
    keys = set(table["de"])
    assert len(keys) >= 4
    for language, texts in table.items():
        assert set(texts) == keys, f"{name}/{language}: {sorted(set(texts) ^ keys)}"
        assert all(isinstance(value, str) and value.strip() for value in texts.values()), language
        # Placeholders must survive translation.
        for key, value in texts.items():
            assert set(re.findall(r"\{\w+\}", value)) == set(re.findall(r"\{\w+\}", table["de"][key])), key


def test_german_default_texts() -> None:
    german = _texts("frame.js")["de"]
    assert german["accept"] == "Zustimmen und Chat starten"
    assert german["decline"] == "Ablehnen"
    assert german["human"] == "Mit einem Menschen sprechen"
    assert german["qrHours"] == "Öffnungszeiten" and "ü" in german["qrCallback"]  # real umlauts, no "oe"/"ue"


def test_frame_page_names_only_known_texts_and_has_the_config_slot() -> None:
    html = _read("frame.html")
    keys = set(_texts("frame.js")["de"])
    used = set(re.findall(r'data-t(?:-label|-placeholder)?="(\w+)"', html))
    assert used and used <= keys, sorted(used - keys)
    # The server replaces exactly this placeholder with the JSON config.
    assert html.count('<script type="application/json" id="carbot-config">{{CONFIG_JSON}}</script>') == 1
    # CSP-friendly: no inline code, handlers or style attributes (scripts only from files).
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert [attrs for attrs, body in scripts if body.strip() and "application/json" not in attrs] == []
    assert not re.search(r"\son\w+\s*=", html)
    assert not re.search(r"\sstyle\s*=", html)


def test_nothing_is_stored_before_consent_and_the_loader_makes_no_requests() -> None:
    for name in SCRIPTS:
        source = _read(name)
        assert "localStorage" not in source, name
        assert "document.cookie" not in source, name
        assert "indexedDB" not in source, name
    loader = _read("widget.js")
    for call in ("fetch(", "XMLHttpRequest", "EventSource", "sendBeacon", "sessionStorage"):
        assert call not in loader, call
    frame = _read("frame.js")
    # sessionStorage is touched only through the one storage helper (used after consent).
    assert frame.count("sessionStorage.") == 3


def test_post_message_is_origin_checked() -> None:
    loader = _read("widget.js")
    frame = _read("frame.js")
    assert "event.origin !== api" in loader and "event.source !== frame.contentWindow" in loader
    assert "event.origin !== hostOrigin" in frame and "event.source !== window.parent" in frame
    # Never broadcast to any origin.
    assert not re.search(r"postMessage\([^)]*['\"]\*['\"]", loader + frame)
