"""Agent presence joins telephony: adopt callback's table with its rows, rename it, add the pause reason."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('telephony', '0002_call_purpose'),
        ('callback', '0003_agent_state_and_warnings_move_out'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AgentState',
                    fields=[
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='agent_state', serialize=False, to=settings.AUTH_USER_MODEL)),
                        ('status', models.CharField(choices=[('offline', 'offline'), ('ready', 'ready'), ('paused', 'paused'), ('on_call', 'on a call')], default='offline', max_length=8, verbose_name='status')),
                        ('changed_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='changed at')),
                    ],
                    options={
                        'verbose_name': 'agent state',
                        'verbose_name_plural': 'agent states',
                        'db_table': 'callback_agentstate',
                    },
                ),
            ],
        ),
        migrations.AlterModelTable(name='agentstate', table=None),
        migrations.AddField(
            model_name='agentstate',
            name='reason',
            field=models.CharField(blank=True, max_length=32, verbose_name='reason'),
        ),
    ]
