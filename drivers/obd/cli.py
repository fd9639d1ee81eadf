"""``carbot obd ports|scan|live|clear`` (registered through the carbot.commands entry point).

The subcommands only parse arguments and call ``ObdReader``/``LiveSampler``, the same objects the
diagnostics window uses. Driver errors are ``WorkshopError``s, so ``carbot`` prints their German text
and exits with 1. What a session learns (protocol, batching) is kept in ``obd_links.json`` next to
the database, so the second scan of a car connects without the protocol search. The driver modules
are imported inside the handlers: python-OBD and pint cost ~0.4 s, which no other ``carbot`` command
should pay for when the entry points are loaded.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app.cli_output import emit, emit_json, error
from app.i18n import _

if TYPE_CHECKING:
    from drivers.obd.live import LiveSample
    from drivers.obd.reader import ObdReader
    from drivers.obd.results import DtcGroup, VehicleStatus


def _number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}".replace(".", ",")


def _reader(args: argparse.Namespace) -> ObdReader:
    from drivers.obd.memory import LinkMemory
    from drivers.obd.reader import ObdReader

    memory = LinkMemory(Path(args.db).parent / "obd_links.json") if getattr(args, "db", None) else None
    reader = ObdReader(memory=memory)
    reader.connect(args.port, protocol=args.protocol, baudrate=args.baudrate, deadline=args.deadline)
    return reader


def cmd_ports(args: argparse.Namespace) -> int:
    """carbot obd ports: serial/USB/Bluetooth ports and the Wi-Fi default."""
    from drivers.obd.ports import list_ports

    ports = list_ports()
    if args.json:
        emit_json(
            [{"url": p.url, "description": p.description, "kind": p.kind, "suggested": p.suggested} for p in ports]
        )
        return 0
    for port in ports:
        hint = _(" (Vorschlag, nicht geprüft)") if port.suggested else ""
        emit(f"{port.kind_text:10} {port.url:32} {port.description}{hint}")
    return 0


def _dtc_json(group: DtcGroup) -> list[dict[str, str]]:
    return [{"code": d.code, "de": d.text_de, "en": d.text_en, "ecu": d.ecu} for d in group.codes]


def _readiness_json(status: VehicleStatus) -> list[dict[str, Any]]:
    return [
        {"monitor": m.key, "name": m.name, "supported": m.supported, "complete": m.complete} for m in status.monitors
    ]


def cmd_scan(args: argparse.Namespace) -> int:
    """carbot obd scan: adapter, protocol, VIN, MIL, readiness and all trouble codes."""
    with _reader(args) as reader:
        info = reader.info
        assert info is not None  # connect() succeeded
        vin = reader.read_vin()
        status = reader.read_status()
        dtcs = reader.read_dtcs()
        reader.remember(vin=vin.vin if vin.valid else None)
    if args.json:
        emit_json(
            {
                "adapter": info.adapter_id,
                "elm_version": info.elm_version,
                "protocol": info.protocol,
                "protocol_name": info.protocol_name,
                "voltage": info.voltage,
                "vin": vin.vin,
                "mil": status.mil if status.state == "ok" else None,
                "dtc_count": status.dtc_count,
                "ignition": status.ignition,
                "readiness": _readiness_json(status),
                "dtcs": {g.kind: _dtc_json(g) for g in dtcs.groups},
                "dtc_states": {g.kind: g.state.value for g in dtcs.groups},
            }
        )
        return 0
    emit(
        _("Adapter: {adapter} ({version}), {voltage} V").format(
            adapter=info.adapter_id, version=info.elm_version, voltage=_number(info.voltage)
        )
    )
    emit(_("Protokoll: {number} – {name}").format(number=info.protocol, name=info.protocol_name))
    emit(_("FIN: {vin}").format(vin=vin.vin or vin.text))
    if status.state == "ok":
        mil = _("an") if status.mil else _("aus")
        emit(_("Motorkontrollleuchte: {mil}, {count} gespeicherte Fehler").format(mil=mil, count=status.dtc_count))
        for monitor in status.monitors:
            if monitor.supported:
                done = _("abgeschlossen") if monitor.complete else _("nicht abgeschlossen")
                emit(f"  {monitor.name}: {done}")
    else:
        emit(_("Status: {text}").format(text=status.text))
    titles = {
        "stored": _("Gespeicherte Fehler"),
        "pending": _("Sporadische Fehler"),
        "permanent": _("Permanente Fehler"),
    }
    for group in dtcs.groups:
        if group.state != "ok":
            emit(f"{titles[group.kind]}: {group.text}")
            continue
        emit(f"{titles[group.kind]}: {len(group.codes)}")
        for dtc in group.codes:
            emit(f"  {dtc.code} – {dtc.text_de} ({dtc.ecu_name}, {dtc.ecu})")
    return 0


class _CsvLog:
    """Writes one row per sample; the header (with units) follows the first sample."""

    def __init__(self, stream: TextIO, names: list[str]) -> None:
        self.writer = csv.writer(stream)
        self.names = names
        self.started: float | None = None

    def __call__(self, sample: LiveSample) -> None:
        if self.started is None:
            self.started = sample.at
            units = [sample.values[n].unit for n in self.names]
            self.writer.writerow(["t_s"] + [f"{n} [{u}]" if u else n for n, u in zip(self.names, units, strict=True)])
        cells = [f"{sample.at - self.started:.3f}"]
        for name in self.names:
            value = sample.values[name]
            cells.append("" if value.value is None else f"{value.value:.6g}")
        self.writer.writerow(cells)


def cmd_live(args: argparse.Namespace) -> int:
    """carbot obd live: sample PIDs for N seconds; values per second, optional CSV."""
    from drivers.obd.live import LiveSampler

    names = [n.strip().upper() for n in args.pids.split(",") if n.strip()]
    with _reader(args) as reader:
        sampler = LiveSampler(reader, names, batch=False if args.no_batch else None)
        last: list[LiveSample] = []
        stream = open(args.csv, "w", newline="", encoding="utf-8") if args.csv else None  # noqa: SIM115
        try:
            log = _CsvLog(stream, [c.name for c in sampler.commands]) if stream else None

            def keep(sample: LiveSample) -> None:
                last[:] = [sample]
                if log is not None:
                    log(sample)

            stats = sampler.run(args.seconds, on_sample=keep)
        finally:
            if stream is not None:
                stream.close()
    final = last[0].values if last else {}
    if args.json:
        emit_json(
            {
                "values_per_second": round(stats.values_per_second, 2),
                "samples": stats.samples,
                "values": stats.values,
                "seconds": round(stats.seconds, 3),
                "batched": stats.batched,
                "last": {n: {"value": v.value, "unit": v.unit, "state": v.state.value} for n, v in final.items()},
            }
        )
        return 0
    for value in final.values():
        emit(f"{value.label:32} {value.text}")
    mode = _("gebündelt") if stats.batched else _("einzeln")
    summary = _("{rate} Werte/s ({mode}), {samples} Durchläufe in {seconds} s")
    rate, seconds = _number(stats.values_per_second), _number(stats.seconds)
    emit(summary.format(rate=rate, mode=mode, samples=stats.samples, seconds=seconds))
    return 0


def cmd_clear(args: argparse.Namespace) -> int:
    """carbot obd clear --yes: Mode 04 (also erases freeze frame and readiness)."""
    if not args.yes:
        error(_("Löschen nur mit --yes: Mode 04 löscht auch Freeze-Frame-Daten und die Bereitschaftstests."))
        return 2
    started = time.monotonic()
    with _reader(args) as reader:
        result = reader.clear_dtcs()
    if args.json:
        seconds = round(time.monotonic() - started, 3)
        emit_json(
            {
                "cleared": result.ok,
                "state": result.state.value,
                "ecus": list(result.ecus),
                "text": result.text,
                "seconds": seconds,
            }
        )
    else:
        emit(result.text if result.ok else _("Nicht gelöscht: {text}").format(text=result.text))
    return 0 if result.ok else 1


def _connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", required=True, help=_("Adapter: COM3, /dev/ttyUSB0, /dev/rfcomm0, socket://IP:PORT"))
    parser.add_argument("--protocol", default=None, help=_("ELM-Protokollnummer 1–9/A (0 = suchen)"))
    parser.add_argument("--baudrate", type=int, default=None, help=_("Baudrate (Standard: automatisch)"))
    parser.add_argument("--deadline", type=float, default=15.0, help=_("Zeitlimit für das Verbinden in Sekunden"))
    parser.add_argument("--json", action="store_true", help=_("Ausgabe als JSON"))


def register(sub: Any) -> None:
    """Add ``carbot obd`` with its subcommands."""
    obd_parser = sub.add_parser("obd", help=_("OBD-II-Diagnose über einen ELM327-Adapter"))
    commands = obd_parser.add_subparsers(dest="obd_command", metavar=_("BEFEHL"))
    p = commands.add_parser("ports", help=_("mögliche Adapter-Anschlüsse auflisten"))
    p.add_argument("--json", action="store_true", help=_("Ausgabe als JSON"))
    p.set_defaults(handler=cmd_ports)
    p = commands.add_parser("scan", help=_("FIN, Bereitschaft und Fehlerspeicher lesen"))
    _connection_options(p)
    p.set_defaults(handler=cmd_scan)
    p = commands.add_parser("live", help=_("Live-Daten lesen"))
    _connection_options(p)
    p.add_argument("--pids", required=True, help=_("Messwerte, z. B. RPM,SPEED,COOLANT_TEMP"))
    p.add_argument("--seconds", type=float, default=5.0, help=_("Dauer in Sekunden"))
    p.add_argument("--csv", type=Path, default=None, help=_("Werte zusätzlich als CSV-Datei schreiben"))
    p.add_argument("--no-batch", action="store_true", help=_("keine gebündelten Anfragen (für problematische Adapter)"))
    p.set_defaults(handler=cmd_live)
    p = commands.add_parser("clear", help=_("Fehlerspeicher löschen (Mode 04)"))
    _connection_options(p)
    p.add_argument("--yes", action="store_true", help=_("Löschen wirklich ausführen"))
    p.set_defaults(handler=cmd_clear)
