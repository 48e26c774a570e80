"""`lastweek demo`: build the demo database (embedded SQLite by default) and serve the site."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.table import Table

from lastweek.synth.demo import DEMO_EMPLOYEES, DEMO_SEED, build_demo


class Command(BaseCommand):
    help = "Create the demo organization and logins, then serve the site at http://127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="Build the demo database and exit.")
        parser.add_argument("--employees", type=int, default=DEMO_EMPLOYEES, help="Size of the organization.")
        parser.add_argument("--seed", type=int, default=DEMO_SEED, help="Seed of the synthetic organization.")
        parser.add_argument("--addr", default="127.0.0.1:8000", help="Address and port to serve on.")

    def handle(self, *args, no_serve: bool, employees: int, seed: int, addr: str, **options) -> None:
        console = Console()
        logins, password = build_demo(employees, seed, say=console.print)
        table = Table(title=f"Demo logins (password for all: {password})")
        for column in ("username", "role", "sees"):
            table.add_column(column)
        for login in logins:
            table.add_row(login.username, login.role, login.sees)
        console.print(table)
        if no_serve:
            return
        console.print(
            f"Serving at http://{addr}/ — the admin site is at http://{addr}/admin/ (Ctrl-C to stop)"
        )
        # --insecure serves the admin's static files without a separate web server: fine for a demo.
        call_command("runserver", addr, use_reloader=False, insecure_serving=True)
