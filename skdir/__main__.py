"""``python -m skdir``: the same as the ``skdir`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
