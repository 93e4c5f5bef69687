import factory

from apps.accounts.models import ADMIN_ROLES, Role, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    role = Role.OPERATOR_STAFF
    is_staff = factory.LazyAttribute(lambda o: o.role in ADMIN_ROLES)
    is_superuser = factory.LazyAttribute(lambda o: o.role in ADMIN_ROLES)

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        from tests.conftest import PASSWORD

        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])
