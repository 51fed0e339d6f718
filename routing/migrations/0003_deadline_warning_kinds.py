"""Deadline warnings become reminders of several kinds (accept-by, reply-by, escalation): the deadline they are about."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('routing', '0002_deadline_warning'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='deadlinewarning',
            name='deadline_warning_once',
        ),
        migrations.RenameField(
            model_name='deadlinewarning',
            old_name='reply_by',
            new_name='deadline',
        ),
        migrations.AlterField(
            model_name='deadlinewarning',
            name='level',
            field=models.CharField(max_length=16),
        ),
        migrations.AddConstraint(
            model_name='deadlinewarning',
            constraint=models.UniqueConstraint(fields=('assignment', 'level', 'deadline'), name='deadline_warning_once'),
        ),
    ]
