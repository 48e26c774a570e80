"""Checking that the database schema is current before a command touches it."""

from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def require_migrated() -> None:
    """Stop with a hint, instead of a 'no such table' traceback, when migrations are pending."""
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        raise CommandError(
            f"The database is missing {len(pending)} migration(s) ({pending[0][0]} first): "
            "run `lastweek migrate` and try again."
        )
