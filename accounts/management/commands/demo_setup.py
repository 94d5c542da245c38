from django.core.management.base import BaseCommand

from accounts.services import demo_accounts_ensure


class Command(BaseCommand):
    help = "Cria (ou atualiza) a conta de demonstração e os usuários da equipe."

    def handle(self, *args, **options) -> None:
        for login in demo_accounts_ensure():
            self.stdout.write(
                f"  {login['role']:<22} {login['email']:<32} senha: {login['password']}"
            )
