"""``python -m assistant.cli`` (how the launcher starts the web app)."""

import sys

from assistant.cli import main

sys.exit(main())
