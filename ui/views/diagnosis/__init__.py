"""The Diagnose tab: OBD-II fault memory, readiness, freeze frame and live data through the OBD worker thread."""
