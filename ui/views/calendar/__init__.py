"""The calendar tab "Termine": day and week plan per bay, booking dialog and the next free slots.

``view.CalendarView`` is the tab; ``grid.CalendarGrid`` paints the plan; ``booking_dialog.BookingDialog``
books and edits appointments; ``data.load_calendar`` is the one (Qt-free) background query behind it.
"""
