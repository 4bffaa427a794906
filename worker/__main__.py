"""`python -m newswatch.worker` is the `newswatch` command."""

from newswatch.worker.cli import main

main()
