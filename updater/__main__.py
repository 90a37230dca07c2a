"""`python -m updater` runs the CLI."""

import sys

from updater.cli import main

sys.exit(main())
