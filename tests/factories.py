import factory
from allauth.account.models import EmailAddress

from accounts.models import User
from instances.models import Instance

PASSWORD = "senha-de-teste-9281"


class UserFactory(factory.django.DjangoModelFactory):
    """A customer with a verified email who can log in with PASSWORD."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"cliente{n}@exemplo.com.br")
    full_name = factory.Faker("name", locale="pt_BR")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if not create:
            return
        self.save()
        EmailAddress.objects.create(
            user=self,
            email=self.email,
            primary=True,
            verified=True if extracted is None else extracted,
        )


class InstanceFactory(factory.django.DjangoModelFactory):
    """An instance as "Adicionar" leaves it, before connecting."""

    class Meta:
        model = Instance

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Instância {n}")
