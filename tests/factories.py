import datetime as dt

import factory
from django.contrib.auth.models import Group

from cases.models import Case, Finding, Patient, SegmentFinding
from venousapp.accounts.models import Centre, User


class CentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Centre
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"centre-{n}")
    name = factory.LazyAttribute(lambda o: f"Hospital {o.code}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    centre = factory.SubFactory(CentreFactory)
    password = factory.django.Password("correct-horse-battery-staple")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    centre = factory.SubFactory(CentreFactory)
    identifier = factory.Sequence(lambda n: f"P{n:06d}")
    date_of_birth = dt.date(1975, 4, 12)
    sex = "female"


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case
        skip_postgeneration_save = True

    patient = factory.SubFactory(PatientFactory)
    centre = factory.SelfAttribute("patient.centre")
    author = factory.SubFactory(UserFactory, centre=factory.SelfAttribute("..patient.centre"))
    case_date = dt.date(2026, 11, 2)
    side = "left"
    lesion_entity = "chronic_post_thrombotic"
    ceap = "C3,s Esi Ad Po"

    @factory.post_generation
    def findings(self, create: bool, extracted: list[dict] | None, **kwargs: object) -> None:
        if not create:
            return
        for data in (
            extracted
            if extracted is not None
            else [{"segment": "CIV", "side": "left", "finding": Finding.OCCLUSION}]
        ):
            SegmentFinding.objects.create(case=self, **data)
