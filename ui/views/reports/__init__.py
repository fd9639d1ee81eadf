"""The Berichte tab: the owner's KPI dashboard with charts and exports, the counter's own day."""
