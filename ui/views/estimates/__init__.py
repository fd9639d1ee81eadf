"""Kostenvoranschläge (KVA) at the counter: list, editor, terms and the printed KVA."""
