"""AgentState moves to telephony and DeadlineWarning to routing: here they only leave the state.

Their tables stay; telephony 0003 and routing 0002 adopt them with their rows.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('callback', '0002_revisit_dialing'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='AgentState'),
                migrations.DeleteModel(name='DeadlineWarning'),
            ],
        ),
    ]
