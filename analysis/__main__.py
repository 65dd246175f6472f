"""`python -m analysis` entry point."""

import sys

from analysis.cli.commands import main

sys.exit(main())
