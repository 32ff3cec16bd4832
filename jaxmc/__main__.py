"""`python -m jaxmc run SCRIPT.py [ARGS]`: run an unmodified PyMC script with jaxmc (docs/compat.md);
`python -m jaxmc demo` is `python -m jaxmc.demo`."""

from __future__ import annotations

import os
import sys

USAGE = """usage: python -m jaxmc run SCRIPT.py [ARGS ...]
       python -m jaxmc demo [--out DIR] [--draws N] [--tune N] [--chains N] [--seed S]

commands:
  run    run SCRIPT.py as `python SCRIPT.py ARGS` would, with every `import pymc` (and `from pymc.x import y`)
         answered by jaxmc's module of the same role; exits with the script's exit status (docs/compat.md)
  demo   the flagship demo (the same as python -m jaxmc.demo)
"""


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        (sys.stdout if argv else sys.stderr).write(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        if not rest or rest[0].startswith("-"):
            sys.stderr.write("python -m jaxmc run: give the script to run, e.g. python -m jaxmc run model.py\n\n"
                             + USAGE)
            return 2
        if not os.path.isfile(rest[0]):
            sys.stderr.write(f"python -m jaxmc run: no such script: {rest[0]!r}\n")
            return 2
        from jaxmc import compat

        compat.run(rest[0], rest[1:])
        return 0
    if command == "demo":
        from jaxmc import demo

        return demo.main(rest)
    sys.stderr.write(f"python -m jaxmc: unknown command {command!r}\n\n" + USAGE)
    return 2


if __name__ == "__main__":
    sys.exit(main())
