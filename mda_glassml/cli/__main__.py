"""``python -m mda_glassml.cli``: the ``mda-glassml`` command."""

import sys

from . import main

sys.exit(main())
