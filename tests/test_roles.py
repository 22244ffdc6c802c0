import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command


@pytest.mark.django_db(transaction=True)
def test_roles_survive_a_database_flush():
    """Transactional tests flush the database; post_migrate must re-create the roles."""
    call_command("flush", "--noinput", verbosity=0)
    names = set(Group.objects.values_list("name", flat=True))
    assert names >= {"clinician", "nurse", "guideline_admin"}
    assert Group.objects.get(name="clinician").permissions.filter(codename="add_case").exists()
    assert not Group.objects.get(name="nurse").permissions.filter(codename="add_case").exists()
