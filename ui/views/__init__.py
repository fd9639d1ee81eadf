"""One package per tab; each view gets a UiContext and talks to services only through it."""
