"""QThread bridges for long-lived background work (OBD polling); one-shot tasks go through ui/tasks.py."""
