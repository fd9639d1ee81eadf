"""The counter tab ("Theke"): one search box, today's appointments, customer and vehicle cards, editors."""
