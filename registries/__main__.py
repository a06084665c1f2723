"""``python -m registries``: see registries/cli.py."""

from registries.cli import main

if __name__ == "__main__":
    main()
