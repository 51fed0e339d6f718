"""An appeal the unit wins is "granted", not "upheld" (which reads as the rating standing).

Stored appeals and their timeline entries follow the new words.
"""

from django.db import migrations, models

RENAMES = (("upheld", "granted"),)
ACTIONS = (("revisit.appeal_upheld", "revisit.appeal_granted"),)


def rename(apps, schema_editor, forward=True):
    RevisitAppeal = apps.get_model("callback", "RevisitAppeal")
    TimelineEntry = apps.get_model("hotline", "TimelineEntry")
    for old, new in RENAMES:
        old, new = (old, new) if forward else (new, old)
        RevisitAppeal.objects.filter(status=old).update(status=new)
    for old, new in ACTIONS:
        old, new = (old, new) if forward else (new, old)
        TimelineEntry.objects.filter(action=old).update(action=new)


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, forward=False)


class Migration(migrations.Migration):

    dependencies = [
        ('callback', '0003_agent_state_and_warnings_move_out'),
        ('hotline', '0002_referral_without_ticket'),
    ]

    operations = [
        migrations.AlterField(
            model_name='revisitappeal',
            name='status',
            field=models.CharField(choices=[('pending', 'pending'), ('granted', 'granted'), ('rejected', 'rejected')], default='pending', max_length=8),
        ),
        migrations.RunPython(rename, rename_back),
    ]
