"""Tests of the hardware drivers (OBD-II against the in-process ELM327 emulator)."""
