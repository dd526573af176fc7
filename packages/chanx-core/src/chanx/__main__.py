"""``python -m chanx``: the command line (see :mod:`chanx.asyncapi.cli`)."""

import sys

from chanx.asyncapi.cli import main

sys.exit(main())
