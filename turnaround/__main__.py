"""`python -m turnaround`: the same command as the console script."""

from turnaround.cli import main

main()
