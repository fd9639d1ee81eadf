"""The "Einstellungen" tab: workshop master data, bays and mechanics, the service catalogue and the language."""
