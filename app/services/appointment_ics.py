"""iCalendar export of appointments (RFC 5545, Europe/Berlin), byte-stable for unchanged data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Final

from icalendar import Calendar, Event

from app.calendar_rules import WORKSHOP_TZ, berlin_vtimezone
from app.i18n import _
from app.services.appointment_types import AppointmentDTO

PRODID: Final = "-//CarBot Werkstatt//DE"


def calendar_bytes(appointments: Iterable[AppointmentDTO]) -> bytes:
    """A VCALENDAR with one VEVENT per appointment."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add_component(berlin_vtimezone())
    for a in appointments:
        cal.add_component(_event(a))
    data: bytes = cal.to_ical()
    return data


def _event(a: AppointmentDTO) -> Event:
    ev = Event()
    ev.add("uid", f"appointment-{a.id}@carbot-werkstatt")
    # DTSTAMP from the last change keeps the export byte-stable until the appointment changes.
    ev.add("dtstamp", a.updated_at.replace(tzinfo=dt.UTC))
    ev.add("dtstart", a.start.replace(tzinfo=WORKSHOP_TZ))
    ev.add("dtend", a.end.replace(tzinfo=WORKSHOP_TZ))
    ev.add("summary", a.label)
    if a.bay_name:
        ev.add("location", a.bay_name)
    lines = []
    if a.service_names:
        lines.append(_("Leistungen: {names}").format(names=", ".join(a.service_names)))
    if a.mechanic_name:
        lines.append(_("Monteur: {name}").format(name=a.mechanic_name))
    if lines:
        ev.add("description", "\n".join(lines))
    ev.add("status", "TENTATIVE" if a.status == "pending" else "CONFIRMED")
    return ev
