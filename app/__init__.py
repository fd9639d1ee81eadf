"""CarBot Werkstatt domain core: Qt-free models, services and rules for the counter desk."""

__version__ = "0.1.0"
