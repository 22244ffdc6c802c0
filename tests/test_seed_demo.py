"""`manage.py seed_demo`: demo centres, users, realistic cases and synthetic bulk cases."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from cases import ceap, thrombolysis
from cases.facts import case_facts
from cases.models import Case, LesionEntity, Patient, SegmentFinding
from demo import cases as demo_cases
from guidelines.engine import evaluate
from venousapp.accounts.models import Centre, User


def seed(*args: str, err: StringIO | None = None) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=err or StringIO())
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "centres": Centre.objects.count(),
        "users": User.objects.count(),
        "patients": Patient.objects.count(),
        "cases": Case.objects.count(),
        "findings": SegmentFinding.objects.count(),
        "case_history": Case.history.count(),
        "finding_history": SegmentFinding.history.count(),
    }


@pytest.fixture
def seeded(db, monkeypatch):
    monkeypatch.delenv(demo_cases.PASSWORD_ENV, raising=False)
    return seed()


def test_seed_demo_creates_centres_and_users_with_their_roles(seeded):
    centres = dict(Centre.objects.values_list("code", "name"))
    assert centres == {
        "centre-a": "Centre A — University Hospital",
        "centre-b": "Centre B — City Hospital",
    }
    users = {u.username: u for u in User.objects.prefetch_related("groups")}
    expected = {
        "clinician": ("clinician", "centre-a"),
        "nurse": ("nurse", "centre-a"),
        "guideline_admin": ("guideline_admin", "centre-a"),
        "guideline_admin2": ("guideline_admin", "centre-a"),
        "clinician_b": ("clinician", "centre-b"),
    }
    for username, (role, centre) in expected.items():
        user = users[username]
        assert [g.name for g in user.groups.all()] == [role]
        assert user.centre.code == centre
        assert user.is_active
        assert not user.is_staff
        assert not user.is_superuser


def test_seed_demo_prints_logins_that_work(seeded):
    assert "Log in at http://127.0.0.1:8000/accounts/login/" in seeded
    for username in ("clinician", "nurse", "guideline_admin", "guideline_admin2", "clinician_b"):
        line = next(x for x in seeded.splitlines() if x.split()[:1] == [username])
        assert line.split()[-1] == demo_cases.DEFAULT_PASSWORD
        response = Client().post(
            reverse("login"), {"username": username, "password": demo_cases.DEFAULT_PASSWORD}
        )
        assert response.status_code == 302, username  # the login form, as a person uses it


def test_seed_demo_clinician_can_create_cases_and_nurse_cannot(seeded):
    assert User.objects.get(username="clinician").has_perm("cases.add_case")
    assert User.objects.get(username="clinician_b").has_perm("cases.add_case")
    nurse = User.objects.get(username="nurse")
    assert nurse.has_perm("cases.view_case")
    assert not nurse.has_perm("cases.add_case")


def test_seed_demo_warns_about_the_default_password_without_debug(db, monkeypatch, settings):
    monkeypatch.delenv(demo_cases.PASSWORD_ENV, raising=False)
    settings.DEBUG = False
    err = StringIO()

    seed(err=err)

    assert "default password" in err.getvalue()


def test_seed_demo_takes_the_password_from_the_environment(db, monkeypatch):
    monkeypatch.setenv(demo_cases.PASSWORD_ENV, "another-long-demo-secret")
    err = StringIO()

    output = seed(err=err)

    assert "another-long-demo-secret" in output
    assert err.getvalue() == ""
    assert User.objects.get(username="nurse").check_password("another-long-demo-secret")


@pytest.mark.parametrize("password", ["short-pw", "1234567890123", "password1234"])
def test_seed_demo_refuses_a_password_the_validators_reject(db, monkeypatch, password):
    monkeypatch.setenv(demo_cases.PASSWORD_ENV, password)

    with pytest.raises(CommandError, match="demo password is not acceptable"):
        seed()

    assert counts()["centres"] == 0  # nothing half-written that `--once` would mistake


def test_seed_demo_covers_every_lesion_entity_at_centre_a(seeded):
    entities = set(
        Case.objects.filter(patient__centre__code="centre-a").values_list(
            "lesion_entity", flat=True
        )
    )
    assert entities == set(LesionEntity.values)
    assert 10 <= Case.objects.filter(patient__centre__code="centre-a").count() <= 14
    assert Case.objects.filter(patient__centre__code="centre-b").count() == 2


def test_seed_demo_has_an_ivc_occlusion_with_bilateral_iliac_disease(seeded):
    cases = Case.objects.filter(
        lesion_entity=LesionEntity.IVC_OCCLUSION, side="bilateral", ivc_filter_related=False
    )
    assert cases.count() == 1
    facts = case_facts(cases.get())
    assert {"IVC", "CIV", "EIV"} <= set(facts["segments_involved"])
    sides = set(
        cases.get()
        .findings.filter(segment__in=["CIV", "EIV"])
        .exclude(finding="normal")
        .values_list("segment", "side")
    )
    assert sides == {("CIV", "left"), ("CIV", "right"), ("EIV", "left"), ("EIV", "right")}


def test_seed_demo_cases_have_the_facts_the_rules_need(seeded):
    for case in Case.objects.select_related("patient").prefetch_related("findings"):
        facts = case_facts(case)
        assert facts["lesion_entity"], case.patient.identifier
        assert facts["segments_involved"], case.patient.identifier
        assert facts["side"]
        assert facts["age"] >= 18
        if case.ceap:
            assert ceap.parse(case.ceap).canonical() == case.ceap
        if case.lesion_entity == LesionEntity.ACUTE_THROMBOTIC:
            assert 0 <= facts["symptom_onset_days"] <= 14
            assert facts["bleeding_risk"]["contraindication_class"] is not None
        case.full_clean()


def test_seed_demo_includes_the_special_cases(seeded):
    by_id = {c.patient.identifier: case_facts(c) for c in Case.objects.select_related("patient")}
    assert any(f["active_infection"] for f in by_id.values())
    assert any(f["ivc_filter_related"] for f in by_id.values())
    assert any(f["ulcer"] == "active" for f in by_id.values())
    assert any(f["inflow"] == "poor" for f in by_id.values())
    assert any(f["bleeding_risk"]["level"] == "high" for f in by_id.values())
    nivl = [f for f in by_id.values() if f["lesion_entity"] == "nivl"]
    assert {f["ceap"].split()[0].endswith(",a") for f in nivl} == {True, False}
    atresia = next(f for f in by_id.values() if f["lesion_entity"] == "iliocaval_atresia")
    assert atresia["sex"] == "male"
    assert atresia["age"] < 30
    sparse = [f for f in by_id.values() if f["ceap"] is None and f["qol_impairment"] is None]
    assert len(sparse) == 1  # the case with missing data


def test_seed_demo_ticks_only_codes_of_the_contraindication_checklist(seeded):
    for ticks in Case.objects.values_list("thrombolysis_contraindications", flat=True):
        assert set(ticks) <= set(thrombolysis.FACTOR_CODES), ticks
    hip = Case.objects.get(notes__startswith="Total hip replacement 6 days ago")
    assert hip.thrombolysis_contraindications == ["major_event_10d", "uncontrolled_hypertension"]


def test_seed_demo_cases_read_from_the_api_are_accepted_back_unchanged(seeded):
    for username, centre in (("clinician", "centre-a"), ("clinician_b", "centre-b")):
        client = Client()
        client.force_login(User.objects.get(username=username))
        for pk in Case.objects.filter(patient__centre__code=centre).values_list("pk", flat=True):
            body = client.get(f"/api/v1/cases/{pk}/").json()
            response = client.put(f"/api/v1/cases/{pk}/", body, content_type="application/json")
            assert response.status_code == 200, (pk, response.json())


def test_seed_demo_writes_history_for_every_demo_case(seeded):
    for case in Case.objects.all():
        assert case.history.filter(history_type="+").count() == 1
    assert SegmentFinding.history.count() == SegmentFinding.objects.count()


def test_seed_demo_twice_does_not_duplicate(seeded):
    before = counts()

    seed()

    after = counts()
    assert after == before


def test_seed_demo_once_is_a_no_op_when_the_demo_exists(seeded):
    before = counts()
    user_history = User.history.count()

    output = seed("--once")

    assert counts() == before
    assert User.history.count() == user_history
    assert "nothing changed" in output
    assert demo_cases.DEFAULT_PASSWORD in output  # the logins are still printed


def test_seed_demo_once_creates_the_demo_on_an_empty_database(db, monkeypatch):
    monkeypatch.delenv(demo_cases.PASSWORD_ENV, raising=False)

    seed("--once")

    assert Centre.objects.filter(code="centre-a").exists()
    assert Case.objects.count() == len(demo_cases.DEMO_CASES)


def test_seed_demo_cases_adds_valid_synthetic_cases_with_history(seeded):
    before = counts()

    output = seed("--cases", "30")

    after = counts()
    assert after["cases"] - before["cases"] == 30
    assert after["patients"] - before["patients"] == 30
    assert "Created 30 synthetic case(s)" in output
    synthetic = Case.objects.filter(patient__identifier__startswith="9").prefetch_related(
        "findings"
    )
    assert synthetic.count() == 30
    for case in synthetic:
        findings = list(case.findings.all())
        assert findings
        assert case_facts(case, findings)["segments_involved"]
        case.full_clean()
        for finding in findings:
            finding.full_clean()
        assert case.history.count() == 1
        assert case.patient.history.count() == 1
    new_findings = after["findings"] - before["findings"]
    assert after["finding_history"] - before["finding_history"] == new_findings


def test_seed_demo_cases_twice_uses_new_hospital_numbers(seeded):
    seed("--cases", "5")
    seed("--cases", "5")

    numbers = sorted(
        Patient.objects.filter(identifier__startswith="9").values_list("identifier", flat=True)
    )
    assert numbers == [f"9{n:07d}" for n in range(1, 11)]


def test_synthetic_generator_is_reproducible_and_covers_every_entity():
    centre, author = Centre(code="x", name="X"), User(username="x")

    def run(seed_value: int) -> list[tuple]:
        generator = demo_cases.SyntheticCaseGenerator(seed=seed_value, today=dt.date(2026, 11, 23))
        out = []
        for i in range(200):
            patient = generator.patient(centre=centre, identifier=f"9{i:07d}")
            case, findings = generator.case(patient=patient, author=author)
            out.append(
                (
                    case.lesion_entity,
                    case.side,
                    case.ceap,
                    tuple((f.segment, f.side, f.finding) for f in findings),
                )
            )
        return out

    first = run(7)
    assert first == run(7)
    assert first != run(8)
    assert {entity for entity, *_ in first} == set(LesionEntity.values)
    for entity, side, _ceap, findings in first:
        assert len({(segment, s) for segment, s, _ in findings}) == len(findings)
        if entity in ("ivc_occlusion", "iliocaval_atresia"):
            assert side == "bilateral"
            assert ("IVC", "midline", "occlusion") in findings


def test_seed_demo_cases_show_every_overall_status_of_the_rules(seeded):
    overall = {
        evaluate(case_facts(case))["overall"]
        for case in Case.objects.select_related("patient").prefetch_related("findings")
    }
    assert overall == {
        "etr_candidate",
        "anticoagulation_only",
        "stent_indicated",
        "stent_conflict",
        "contraindicated_defer",
        "insufficient_data",
        "conservative",
    }


def test_seed_demo_cases_at_an_unknown_centre_is_a_clear_error(seeded):
    with pytest.raises(CommandError, match="no centre with the code 'nowhere'"):
        seed("--cases", "3", "--centre", "nowhere")
