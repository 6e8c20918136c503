"""`python -m consentry.cli …`: the same command line as `consentry …`."""

from consentry.cli import main

main()
