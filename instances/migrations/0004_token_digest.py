import hashlib

from django.db import migrations, models


def fill_digests(apps, schema_editor):
    Instance = apps.get_model("instances", "Instance")
    for instance in Instance.objects.only("pk", "token"):
        Instance.objects.filter(pk=instance.pk).update(
            token_digest=hashlib.sha256(instance.token.encode()).hexdigest()
        )


class Migration(migrations.Migration):
    dependencies = [("instances", "0003_message")]

    operations = [
        migrations.AddField(
            model_name="instance",
            name="token_digest",
            field=models.CharField(
                db_index=True, default="", editable=False, max_length=64
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_digests, migrations.RunPython.noop),
    ]
