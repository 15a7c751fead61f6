"""``python -m scrubber``."""

from scrubber.cli import main

if __name__ == "__main__":  # not when imported again as a spawned worker's main module (scrubber serve)
    main()
