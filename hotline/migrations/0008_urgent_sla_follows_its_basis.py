# Written by hand: data only.

from django.db import migrations

# Urgent SLA rows as seeded before (category: (accept_hours, reply_days)) and as seeded now.
OLD = {
    "consultation": (2, 1),
    "help": (2, 1),
    "complaint": (2, 3),
    "report": (2, 3),
    "suggestion": (4, 5),
    "praise": (9, 5),
}
NEW = {code: (9, 3) for code in OLD} | {"consultation": (4, 3)}


def follow_the_basis(apps, schema_editor):
    """Urgent rows nobody edited follow 当日转办、次日反馈、三日办结 (docs/metrics.md); edited rows stay."""
    SlaPolicy = apps.get_model("hotline", "SlaPolicy")
    for code, (accept_hours, reply_days) in OLD.items():
        SlaPolicy.objects.filter(
            category__code=code, urgency="urgent", accept_hours=accept_hours, reply_days=reply_days
        ).update(accept_hours=NEW[code][0], reply_days=NEW[code][1])


class Migration(migrations.Migration):

    dependencies = [
        ("hotline", "0007_assignment_withdrawn_at"),
    ]

    operations = [migrations.RunPython(follow_the_basis, migrations.RunPython.noop)]
