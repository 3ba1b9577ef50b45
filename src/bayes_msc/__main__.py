"""``python -m bayes_msc`` runs the command line."""

from bayes_msc.cli.main import main

raise SystemExit(main())
