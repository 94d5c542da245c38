"""Create the "Suporte" group with view permissions on every model that exists
now. Models added later get theirs from the post_migrate sync in apps.py."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_support_group(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Suporte")
    group.permissions.add(
        *Permission.objects.filter(codename__startswith="view_"),
        *Permission.objects.filter(
            content_type__app_label="accounts", codename="change_user_email"
        ),
    )


def remove_support_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Suporte").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_support_group, remove_support_group)]
