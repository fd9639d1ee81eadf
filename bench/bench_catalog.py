"""Catalogue benchmarks: import of a 10,000-row CSV file and search-as-you-type on that catalogue.

Baselines from the same run: plain ``csv.reader`` parsing of the same file (the floor for any
import), and fetching every row's text columns with one plain SELECT (what a naive search costs).
"""

from __future__ import annotations

import csv
import functools
import statistics
import tempfile
from pathlib import Path

from sqlalchemy import text

from app.db import open_database
from app.services.catalog import CatalogService
from bench.common import Result, timed

ROWS = 10_000
_CATEGORIES = ("Bremsen", "Ölservice", "Fahrwerk & Lenkung", "Kühlung", "Elektrik & Batterie", "Karosserie")
_WORDS = ("Bremsbeläge", "Querlenker", "Wasserpumpe", "Lichtmaschine", "Stoßdämpfer", "Kotflügel", "Ölfilter")
_QUERIES = ("brems", "oel", "wasserpumpe vorne", "querlenker links", "BM-00042", "zzz")


def write_csv(path: Path, rows: int = ROWS) -> None:
    """A realistic catalogue file as Excel writes it: BOM, ``;``, German headers, decimal comma."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["Nr", "Kategorie", "Bezeichnung", "AW", "Teile", "Preisregel", "Preis netto", "MwSt"])
        for i in range(rows):
            word = _WORDS[i % len(_WORDS)]
            side = ("vorne links", "vorne rechts", "hinten links", "hinten rechts")[i % 4]
            rule = ("aw", "fixed", "from")[i % 3]
            price = "" if rule == "aw" else f"{49 + i % 400},{i % 100:02d}"
            writer.writerow(
                [
                    f"BM-{i:05d}",
                    _CATEGORIES[i % len(_CATEGORIES)],
                    f"{word} {side} erneuern – Variante {i}",
                    f"{1 + i % 40},{(i % 2) * 5}",
                    f"{word}|Schrauben|Kleinmaterial",
                    rule,
                    price,
                    "19",
                ]
            )


def _parse_only(path: Path) -> None:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for _row in csv.reader(fh, delimiter=";"):
            pass


def run() -> list[Result]:
    """Import 10,000 rows into a fresh database (goal ≤ 2 s), then time searches on them."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "katalog.csv"
        write_csv(path)
        baseline = min(timed(lambda: _parse_only(path)) for _ in range(3))
        db = open_database(Path(tmp) / "bench.db")
        try:
            catalog = CatalogService(db)
            seconds = timed(lambda: catalog.import_csv(path))
            if catalog.count() != ROWS:  # a benchmark that imported nothing would look fast
                raise RuntimeError(f"imported {catalog.count()} rows, expected {ROWS}")
            catalog.search("warm up")
            samples = [timed(functools.partial(catalog.search, q)) * 1000 for q in _QUERIES for _ in range(3)]

            def scan() -> None:
                with db.engine.connect() as conn:
                    conn.execute(text("SELECT code, category, name, parts FROM service")).all()

            scan_ms = min(timed(scan) for _ in range(3)) * 1000
        finally:
            db.close()
    search_ms = statistics.median(samples)
    return [
        Result(f"catalog import {ROWS:,} rows", seconds, "s", baseline=baseline, goal="≤ 2 s", ok=seconds <= 2.0),
        Result(
            f"catalog search on {ROWS:,} rows (median)",
            search_ms,
            "ms",
            baseline=scan_ms,
            goal="≤ 100 ms",
            ok=search_ms <= 100.0,
        ),
    ]


if __name__ == "__main__":
    for result in run():
        print(result.line())
