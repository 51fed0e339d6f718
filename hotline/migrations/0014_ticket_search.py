# The ticket search (docs/search.md): a token row per ticket, filled for the tickets that exist,
# and on PostgreSQL a stored tsvector of it with a GIN index.

import django.db.models.deletion
from django.db import migrations, models

# A framework-free function, imported on purpose: the rows must hold what the search reads, and
# `manage.py reindex_ticket_search` rewrites them with the same function if it ever changes.
from hotline.lib.textsearch import document

PG_ADD = [
    "ALTER TABLE hotline_ticketsearch ADD COLUMN tsv tsvector"
    " GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, tokens)) STORED",
    "CREATE INDEX hotline_ticketsearch_tsv ON hotline_ticketsearch USING gin (tsv)",
]
PG_DROP = ["DROP INDEX IF EXISTS hotline_ticketsearch_tsv", "ALTER TABLE hotline_ticketsearch DROP COLUMN IF EXISTS tsv"]


def add_tsvector(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_ADD:
            schema_editor.execute(statement)


def drop_tsvector(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_DROP:
            schema_editor.execute(statement)


def fill(apps, schema_editor):
    Ticket = apps.get_model("hotline", "Ticket")
    Assignment = apps.get_model("hotline", "Assignment")
    TicketSearch = apps.get_model("hotline", "TicketSearch")
    batch = []
    for t in Ticket.objects.order_by("pk").iterator(chunk_size=2000):
        replies = Assignment.objects.filter(ticket_id=t.pk).exclude(reply_text="").values_list("reply_text", flat=True)
        texts = (t.number, t.query_code, t.title, t.content, t.address, t.resolution, *replies)
        batch.append(TicketSearch(ticket_id=t.pk, tokens=document(*texts)))
        if len(batch) >= 2000:
            TicketSearch.objects.bulk_create(batch)
            batch = []
    TicketSearch.objects.bulk_create(batch)


class Migration(migrations.Migration):

    dependencies = [
        ('hotline', '0013_supervision'),
    ]

    operations = [
        migrations.CreateModel(
            name='TicketSearch',
            fields=[
                ('ticket', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='search', serialize=False, to='hotline.ticket')),
                ('tokens', models.TextField(default=' ')),
            ],
            options={
                'verbose_name': 'ticket search row',
            },
        ),
        migrations.RunPython(add_tsvector, drop_tsvector),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
