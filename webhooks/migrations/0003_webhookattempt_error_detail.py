from django.db import migrations, models
from django.db.models import F

# What the delivery log said before in Portuguese, by how it began; any other
# error was httpx's own text (in English), kept now for staff only.
PORTUGUESE = (
    "Tempo esgotado",
    "Nome de servidor",
    "Redirecionamento",
    "URL inválida",
    "Informe uma URL",
    "Use https",
    "Não coloque",
    "Não encontramos",
    "O endereço",
)


def raw_errors_to_detail(apps, schema_editor):
    WebhookAttempt = apps.get_model("webhooks", "WebhookAttempt")
    # Each update moves its rows' text to error_detail, out of the next one.
    raw = WebhookAttempt.objects.exclude(error="").filter(error_detail="")
    for prefix in PORTUGUESE:
        raw = raw.exclude(error__startswith=prefix)
    raw.filter(error__icontains="refused").update(
        error_detail=F("error"), error="O servidor recusou a conexão."
    )
    raw.filter(error__startswith="Falha ao conectar").update(
        error_detail=F("error"), error="Não foi possível conectar ao servidor."
    )
    raw.update(error_detail=F("error"), error="A conexão com o servidor falhou.")


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0002_webhook_payload_format"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookattempt",
            name="error_detail",
            field=models.TextField(blank=True, verbose_name="detalhe técnico do erro"),
        ),
        migrations.RunPython(raw_errors_to_detail, migrations.RunPython.noop),
    ]
