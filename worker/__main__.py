"""`python -m worker` is the `newswatch` command."""

from worker.cli import main

main()
