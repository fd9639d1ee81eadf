"""Data shipped with the app (catalogue, fonts, translations); read via importlib.resources."""
