"""The Diagnose tab: OBD-II fault memory, readiness, freeze frame and live data via the OBD worker."""
