"""`python -m vmo ...` runs the CLI, like the `vmo` console script."""
from vmo.cli import main

main()
