"""Supervision cases (督办件) and their follow-up notes."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('hotline', '0012_audit_entry'),
    ]

    operations = [
        migrations.CreateModel(
            name='SupervisionCase',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('form', models.CharField(choices=[('bulletin', 'bulletin supervision'), ('written', 'written supervision'), ('special_topic', 'special-topic supervision'), ('leader_file', "leader's file"), ('leader_instruction', 'leader instruction'), ('meeting', 'meeting supervision'), ('phone', 'phone supervision'), ('on_site', 'on-site supervision')], max_length=20, verbose_name='form')),
                ('title', models.CharField(max_length=200, verbose_name='title')),
                ('reason', models.TextField(verbose_name='reason')),
                ('leader_name', models.CharField(blank=True, max_length=50, verbose_name='responsible leader')),
                ('due_by', models.DateTimeField(verbose_name='demanded deadline')),
                ('status', models.CharField(choices=[('open', 'open'), ('closed', 'closed')], db_index=True, default='open', max_length=8, verbose_name='status')),
                ('opened_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='opened at')),
                ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='closed at')),
                ('outcome', models.CharField(blank=True, choices=[('solved', 'solved'), ('partly', 'partly solved'), ('unsolved', 'not solved')], max_length=10, verbose_name='supervision outcome')),
                ('result', models.TextField(blank=True, verbose_name='result')),
                ('closed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='closed by')),
                ('opened_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='opened by')),
                ('tickets', models.ManyToManyField(related_name='supervisions', to='hotline.ticket', verbose_name='tickets')),
                ('unit', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='hotline.unit', verbose_name='responsible unit')),
            ],
            options={
                'verbose_name': 'supervision case',
                'verbose_name_plural': 'supervision cases',
                'ordering': ['-opened_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='SupervisionNote',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                ('text', models.TextField(verbose_name='note')),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='notes', to='hotline.supervisioncase')),
            ],
            options={
                'verbose_name': 'follow-up note',
                'verbose_name_plural': 'follow-up notes',
                'ordering': ['at', 'pk'],
            },
        ),
    ]
