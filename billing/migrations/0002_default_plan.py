from django.db import migrations


def plan_default_create(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    if not Plan.objects.filter(is_current=True).exists():
        Plan.objects.create(
            name="PlugMessage",
            monthly_price_cents=9900,
            fine_basis_points=200,
            monthly_interest_basis_points=100,
            due_day=10,
            is_current=True,
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(plan_default_create, migrations.RunPython.noop)]
