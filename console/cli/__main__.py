"""`python -m console.cli`: the same as the `runbook-console` script."""

import sys

from console.cli import main

sys.exit(main())
