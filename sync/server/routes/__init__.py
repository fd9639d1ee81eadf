"""Thin routers: parse, call one service function, shape the answer. No business rules here."""
