"""`python -m qa` runs the CLI."""

from .cli import main

raise SystemExit(main())
