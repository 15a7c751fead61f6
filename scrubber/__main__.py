"""``python -m scrubber``."""

from scrubber.cli import main

main()
