from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from accounts.models import User


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        return super().clean_email(email.strip())

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return True

    def populate_username(self, request: HttpRequest, user: User) -> None:
        # The model has no username: the email is the identity.
        return None
