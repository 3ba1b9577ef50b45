"""``python -m bayes_msc`` runs the command line."""

from bayes_msc.presentation.cli import main

raise SystemExit(main())
