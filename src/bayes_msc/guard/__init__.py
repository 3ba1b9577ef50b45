"""Guards at the package's borders: what is read, what is written, what is accepted.

- :mod:`~bayes_msc.guard.reading`: input files are read only when they are regular files
  no larger than :data:`~bayes_msc.guard.reading.MAX_INPUT_BYTES` (a named pipe, a device
  or ``/dev/zero`` is refused before it is opened for reading, so nothing hangs), and a
  symbolic-link loop or a dangling link is reported as such.
- :mod:`~bayes_msc.guard.targets`: an output path (``--save FILE``, ``--out DIR``) is
  checked before any work: never an input of the same call, never a file or folder the
  package did not write (files: unless forced), never a link, pipe, device or mount point,
  a folder that exists (or can be made) on a writable filesystem with room.
- :mod:`~bayes_msc.guard.claims`: an output is written complete or not at all: a lock
  next to it serialises two processes, temporaries carry the writer's process id, stale
  ones left by a killed process are removed by the next writer.
- :mod:`~bayes_msc.guard.limits`: the numeric ranges every count, seed and prior parameter
  must lie in, and the memory check of a sampler's draws.
- :mod:`~bayes_msc.guard.arguments`: checks of Python arguments at the API's door.
- :mod:`~bayes_msc.guard.csvcells`: CSV cells that a spreadsheet would run as a formula.

This folder imports nothing of the package but :mod:`bayes_msc.errors` (layer 0).
"""
