"""The PySide6 desktop UI: composition root, task runner, views. No SQL, no business rules."""
