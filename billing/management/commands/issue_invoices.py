from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from billing import dates, services


class Command(BaseCommand):
    help = "Emite as faturas de um mês já encerrado (padrão: o mês anterior)."

    def add_arguments(self, parser):
        parser.add_argument("--period", help="Mês de uso, no formato AAAA-MM.")

    def handle(self, *args, period: str | None = None, **options):
        this_month = dates.today().replace(day=1)
        if period:
            try:
                year, month = (int(part) for part in period.split("-"))
                chosen = date(year, month, 1)
            except ValueError as error:
                raise CommandError(
                    f"Período inválido: “{period}”. Use AAAA-MM, por exemplo 2026-10."
                ) from error
        else:
            chosen = (this_month - timedelta(days=1)).replace(day=1)
        if chosen >= this_month:
            raise CommandError(
                f"O mês {chosen:%m/%Y} ainda não terminou: só se fatura um mês encerrado."
            )
        created = services.invoices_issue_for_period(period=chosen)
        self.stdout.write(f"{created} fatura(s) emitida(s) para {chosen:%m/%Y}.")
