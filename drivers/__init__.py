"""Hardware adapters (OBD-II and others), Qt-free. Filled by the diagnostics issue."""
