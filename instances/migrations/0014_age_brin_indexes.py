"""Retention finds old rows by their age: a BRIN index on PostgreSQL for
each table it sweeps in instances. Rows arrive in time order, so a BRIN
index is a few pages and costs next to nothing to keep up, unlike a B-tree
on every message (SQLite, the embedded default, goes without)."""

from django.db import migrations

TABLES = [
    ("instances_message", "created_at"),
    ("instances_receivedmessage", "received_at"),
    ("instances_simulatedmessage", "sent_at"),
    ("instances_mediafile", "created_at"),
]


def _name(table: str, column: str) -> str:
    return f"{table}_{column}_brin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in TABLES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {_name(table, column)}"
            f" ON {table} USING brin ({column})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in TABLES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {_name(table, column)}")


class Migration(migrations.Migration):
    dependencies = [("instances", "0013_engine_inbox_and_logouts")]

    operations = [migrations.RunPython(create, drop)]
