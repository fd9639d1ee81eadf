"""A line table that breaks across pages with a repeated header and an "Übertrag" (carried-forward sum).

Platypus' own Table can repeat its header, but it cannot put a running total at the foot of one page
and the head of the next. ``CarryTable`` splits itself: each page's part is an ordinary Table with the
header, the carried sum from the previous page (if any), as many lines as fit, and the sum so far at the
bottom; the rest becomes a new ``CarryTable`` that starts with that sum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reportlab.lib.colors import Color, HexColor
from reportlab.platypus import Flowable, Table, TableStyle

from app.pdf.fonts import BOLD, REGULAR

CARRY_LABEL = "Übertrag"
_RULE = HexColor("#D0D0D0")
_HEADER_FILL = HexColor("#F2F2F2")


@dataclass(frozen=True)
class Row:
    """One table row: its cells and the amount it adds to the running total."""

    cells: tuple[Any, ...]
    amount: Decimal


class CarryTable(Flowable):  # type: ignore[misc]  # ReportLab ships no type hints
    """The splitting table; ``right`` lists the column indexes that are right-aligned (numbers)."""

    def __init__(
        self,
        header: Sequence[Any],
        rows: Sequence[Row],
        col_widths: Sequence[float],
        *,
        accent: Color,
        money: Callable[[Decimal], str],
        right: Sequence[int] = (),
        carry_in: Decimal | None = None,
    ) -> None:
        super().__init__()
        self.header = list(header)
        self.rows = list(rows)
        self.col_widths = list(col_widths)
        self.accent = accent
        self.money = money
        self.right = list(right)
        self.carry_in = carry_in
        self._table: Table | None = None
        self._heights: list[float] | None = None

    # -- measuring -------------------------------------------------------------------------------
    def _row_heights(self) -> list[float]:
        """Heights of header, carry row and each line (the column widths are fixed, so measure once)."""
        if self._heights is None:
            probe = self._table_for(self.rows, carry_in=Decimal(0), carry_out=None)
            probe.wrap(sum(self.col_widths), 1e6)
            self._heights = list(probe._rowHeights)  # noqa: SLF001 - the measured heights we need
        return self._heights

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        """The size of the whole remaining table on one page."""
        self._table = self._table_for(self.rows, carry_in=self.carry_in, carry_out=None)
        width, height = self._table.wrap(avail_width, avail_height)
        return width, height

    def draw(self) -> None:
        """Draw the table built by ``wrap``."""
        assert self._table is not None  # platypus always wraps before drawing
        self._table.drawOn(self.canv, 0, 0)

    def split(self, avail_width: float, avail_height: float) -> list[Any]:  # noqa: ARG002
        """This page's part (ending with "Übertrag") and the rest, or [] if not one line fits here."""
        heights = self._row_heights()
        header_h, carry_h, line_hs = heights[0], heights[1], heights[2:]
        room = avail_height - header_h - carry_h - (carry_h if self.carry_in is not None else 0)
        fit, used = 0, 0.0
        for height in line_hs:
            if used + height > room:
                break
            used += height
            fit += 1
        if fit == 0 or fit >= len(self.rows):
            return []
        carried = (self.carry_in or Decimal(0)) + sum((row.amount for row in self.rows[:fit]), Decimal(0))
        part = self._table_for(self.rows[:fit], carry_in=self.carry_in, carry_out=carried)
        rest = CarryTable(
            self.header,
            self.rows[fit:],
            self.col_widths,
            accent=self.accent,
            money=self.money,
            right=self.right,
            carry_in=carried,
        )
        return [part, rest]

    # -- building --------------------------------------------------------------------------------
    def _carry_row(self, amount: Decimal) -> list[Any]:
        return [CARRY_LABEL] + [""] * (len(self.col_widths) - 2) + [self.money(amount)]

    def _table_for(self, rows: Sequence[Row], *, carry_in: Decimal | None, carry_out: Decimal | None) -> Table:
        data: list[list[Any]] = [self.header]
        commands: list[tuple[Any, ...]] = [
            ("FONTNAME", (0, 0), (-1, -1), REGULAR),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("LEADING", (0, 0), (-1, -1), 10),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ("FONTNAME", (0, 0), (-1, 0), BOLD),
            ("BACKGROUND", (0, 0), (-1, 0), _HEADER_FILL),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, self.accent),
        ]
        commands += [("ALIGN", (col, 0), (col, -1), "RIGHT") for col in self.right]
        carry_rows = []
        if carry_in is not None:
            carry_rows.append(len(data))
            data.append(self._carry_row(carry_in))
        for row in rows:
            data.append(list(row.cells))
            commands.append(("LINEBELOW", (0, len(data) - 1), (-1, len(data) - 1), 0.25, _RULE))
        if carry_out is not None:
            carry_rows.append(len(data))
            data.append(self._carry_row(carry_out))
        for index in carry_rows:
            commands += [
                ("SPAN", (0, index), (-2, index)),
                ("ALIGN", (0, index), (-1, index), "RIGHT"),
                ("FONTNAME", (0, index), (-1, index), BOLD),
                ("LINEBELOW", (0, index), (-1, index), 0.25, _RULE),
            ]
        table = Table(data, colWidths=self.col_widths)
        table.setStyle(TableStyle(commands))
        return table
