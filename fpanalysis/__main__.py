"""``python -m fpanalysis``: the command line (see :mod:`fpanalysis.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
