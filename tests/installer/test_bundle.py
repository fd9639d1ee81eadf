"""The PyInstaller bundle: built from installer/carbot.spec, it runs --version and self-test
(which opens and migrates a new database and builds the main window offscreen)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import __version__

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bundle_builds_and_runs(tmp_path: Path) -> None:
    dist, work = tmp_path / "dist", tmp_path / "build"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--distpath",
            str(dist),
            "--workpath",
            str(work),
            str(ROOT / "installer" / "carbot.spec"),
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
        timeout=900,
    )
    exe = dist / f"carbot-{__version__}" / "carbot"
    assert exe.exists()
    env = os.environ | {
        "QT_QPA_PLATFORM": "offscreen",
        "CARBOT_DATA_DIR": str(tmp_path / "data"),
        "CARBOT_LOG_DIR": str(tmp_path / "log"),
    }
    version = subprocess.run([str(exe), "--version"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert version.returncode == 0, version.stderr
    assert __version__ in version.stdout
    db = tmp_path / "data" / "bundle.db"
    test = subprocess.run(
        [str(exe), "--db", str(db), "self-test"], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert test.returncode == 0, test.stdout + test.stderr
    assert "Selbsttest bestanden" in test.stdout
    # the bundle migrated the new database with the shipped Alembic scripts
    demo = subprocess.run(
        [str(exe), "--db", str(db), "settings", "show", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert demo.returncode == 0 and '"aw_per_hour": 10' in demo.stdout
    # the demo workshop and a real invoice work from the bundle (validators, fonts, schematron, ICC shipped)
    demo = subprocess.run(
        [str(exe), "--db", str(db), "demo"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    order = ROOT / "tests" / "data" / "order_private.json"
    imported = subprocess.run(
        [str(exe), "--db", str(db), "orders", "import", str(order)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    final = subprocess.run(
        # the demo has its own invoiced orders: finalise the one just imported
        [str(exe), "--db", str(db), "invoice", "finalize", str(json.loads(imported.stdout)["order_ids"][0]), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert final.returncode == 0, final.stderr
    assert '"gross": "1486.56"' in final.stdout
    # the test-only emulator and the hosted API never enter the desktop bundle
    internal = dist / f"carbot-{__version__}" / "_internal"
    assert not list(internal.rglob("fastapi*")) and not list(internal.rglob("elm327*"))
    assert not (internal / "elm").exists(), "the CC-BY-NC-SA ELM327 emulator must never be bundled"
    assert not list(internal.rglob("playwright*")) and not list(internal.rglob("localstripe*")), "test-only tools"
