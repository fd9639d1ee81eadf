"""Entry script of the PyInstaller bundle: the same `carbot` command as the pip installation."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
