"""OBD-II diagnostics driver (docstring follows)."""
