"""``python -m perftest_operator.burnerjob BINARY ARGS...``: the runner image's entry point (I/O)."""

import sys

from perftest_operator.burnerjob.entrypoint import main

sys.exit(main())
