"""Benchmarks (`make bench`): each module has run() -> list[Result]; see bench/__main__.py."""
