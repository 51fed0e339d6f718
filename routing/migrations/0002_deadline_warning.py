"""Deadline warnings join routing (supervision): adopt callback's table with its rows and rename it."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('routing', '0001_initial'),
        ('hotline', '0001_initial'),
        ('callback', '0003_agent_state_and_warnings_move_out'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='DeadlineWarning',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('level', models.CharField(max_length=8)),
                        ('reply_by', models.DateTimeField()),
                        ('sent_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('assignment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='hotline.assignment')),
                    ],
                    options={
                        'db_table': 'callback_deadlinewarning',
                        'constraints': [models.UniqueConstraint(fields=('assignment', 'level', 'reply_by'), name='deadline_warning_once')],
                    },
                ),
            ],
        ),
        migrations.AlterModelTable(name='deadlinewarning', table=None),
    ]
