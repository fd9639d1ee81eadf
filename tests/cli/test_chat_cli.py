"""``carbot chat ask|inbox`` in-process on a demo database (no server, built-in assistant)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from app.chat import build_profile, format_price_from
from app.cli import main
from app.db import open_database
from app.services.registry import Services
from sync import local
from sync.protocol import Change
from sync.protocol_chat import ChatStatus, ContactDetails, ConversationOut


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def _demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``carbot demo`` once per module (the invoice history takes a while); tests get a copy."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    assert main(["--db", str(path), "demo", "--customers", "5", "--vehicles", "5"]) == 0
    return path


@pytest.fixture
def demo_db(
    _demo_template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("CARBOT_LLM_CONFIG", str(tmp_path / "kein-llm.json"))  # no cloud LLM configured
    path = tmp_path / "demo.db"
    shutil.copy(_demo_template, path)
    capsys.readouterr()
    return path


def test_ask_json_names_the_catalogue_price(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--db", str(demo_db), "chat", "ask", "Was kostet ein Ölwechsel?", "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert set(answer) >= {"text", "quick_replies", "handoff", "provider", "usage"}
    assert (answer["provider"], answer["usage"], answer["handoff"]) == ("builtin", None, False)
    services = Services.open(demo_db)
    try:
        profile = build_profile(services, now=dt.datetime.now(dt.UTC))
    finally:
        services.close()
    named = [s for s in profile.services if s.name in answer["text"]]
    assert named and "Öl" in named[0].name
    assert format_price_from(named[0].price_from_gross, "de") in answer["text"]  # e.g. "ab 70,21 €"
    assert answer["quick_replies"]


def test_ask_in_english_and_as_text(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", str(demo_db), "chat", "ask", "How much is an oil change?", "--language", "en")
    assert code == 0
    assert "€" in out and "(Antwort von: builtin)" in out


def test_inbox_lists_pulled_conversations(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", str(db_path), "chat", "inbox")
    assert code == 0 and "Keine Web-Chats" in out
    now = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
    conv = ConversationOut(
        id="c-1", location_id="loc", status=ChatStatus.WAITING_STAFF, language="de", created_at=now, updated_at=now,
        last_seq=0, last_visitor_seq=0, is_lead=True, contact=ContactDetails(name="Eva Berg", phone="0171 2345678"),
    )  # fmt: skip
    db = open_database(db_path)
    change = Change(seq=1, stream="chat", entity="chat_conversation", entity_id="c-1", op="upsert",
                    data=conv.model_dump(mode="json"))  # fmt: skip
    local.apply_changes(db, [change], cursor=1)
    db.close()
    code, out, _ = run(capsys, "--db", str(db_path), "chat", "inbox")
    assert code == 0 and "Eva Berg" in out and "wartet auf Mitarbeiter" in out and "Lead" in out
    code, out, _ = run(capsys, "--db", str(db_path), "chat", "inbox", "--json")
    assert json.loads(out)[0]["contact"]["phone"] == "0171 2345678"
    code, out, _ = run(capsys, "--db", str(db_path), "chat", "inbox", "--status", "bot")
    assert "Eva Berg" not in out


def test_agent_without_registration_is_a_german_error(
    db_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync import credentials
    from tests.sync.sync_support import MemoryKeyring

    memory = MemoryKeyring()
    monkeypatch.setattr(credentials, "_system_keyring", lambda: memory)
    code, _, err = run(capsys, "--db", str(db_path), "chat", "agent", "--once")
    assert code == 1 and "nicht registriert" in err
