from django.db import migrations


def seed(apps, schema_editor):
    from metrics.seed import seed_schemes

    seed_schemes(
        apps.get_model("metrics", "EvaluationScheme"),
        apps.get_model("metrics", "SchemeIndicator"),
        apps.get_model("metrics", "SchemeDeduction"),
    )


class Migration(migrations.Migration):
    dependencies = [("metrics", "0001_evaluation_schemes")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
