"""Small factories with unique defaults; tests name only what matters to them."""

import factory
from django.contrib.auth import get_user_model

from lastweek.access.models import RoleGrant, Scope
from lastweek.org.models import Agency, Employee, Unit


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.gov")
    password = factory.django.Password("correct horse battery staple")


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"AG{n}")
    name = factory.LazyAttribute(lambda agency: f"Agency {agency.code}")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    agency = factory.LazyAttribute(lambda unit: unit.parent.agency if unit.parent else AgencyFactory())
    parent = None
    name = factory.Sequence(lambda n: f"Unit {n}")


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    employee_number = factory.Sequence(lambda n: f"{100000 + n}")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    email = factory.LazyAttribute(lambda e: f"{e.first_name}.{e.last_name}@example.gov".lower())
    unit = factory.SubFactory(UnitFactory)
    agency = factory.LazyAttribute(lambda e: e.unit.agency)
    title = "Program Analyst"


class RoleGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleGrant

    user = factory.SubFactory(UserFactory)
    scope = Scope.ORGANIZATION


class DirectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "directives.Directive"

    title = factory.Sequence(lambda n: f"Weekly accomplishments {n}")
    sender_name = "Office of Personnel Management"
    status = "active"
