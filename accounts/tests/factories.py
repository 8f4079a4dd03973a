import factory
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import ROLE_GROUPS

PASSWORD = "Correct-Horse-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)


class StaffFactory(UserFactory):
    """A staff account in one role: StaffFactory(role="inventory" | "orders" | "analytics")."""

    is_staff = True

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get(name=ROLE_GROUPS[extracted or "inventory"]))
