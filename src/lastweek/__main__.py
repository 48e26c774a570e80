"""The `lastweek` console script: every operational job is a Django management command."""

import os
import sys


def main() -> None:
    """Run a management command, e.g. `lastweek import-roster roster.csv`.

    Commands are named with dashes on the command line (`import-roster`) and with underscores in
    Django (`import_roster`), so both spellings work.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lastweek.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    argv[0] = "lastweek"
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
