"""Worker processes leave stop signals to their parent.

``bayes-msc`` turns SIGINT, SIGTERM and SIGHUP into an exception in its main process
(:mod:`bayes_msc.cli.main`). A forked worker (figures, posterior files) inherits that
handler; without :func:`worker_signals` as its pool's initializer, a pool shutting down
(which sends its workers SIGTERM) makes each worker print the exception's traceback.
"""

from __future__ import annotations

import signal


def worker_signals() -> None:
    """Pool initializer: Ctrl-C (sent to the whole process group) is ignored, so the parent
    alone handles it; SIGTERM and SIGHUP (the pool's own shutdown) end the worker quietly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
