"""Small reusable widgets (empty state, badges, form rows with inline errors)."""
