"""Settings come from the environment through strict helpers (venousapp/env.py), and the
production mode passes `manage.py check --deploy` without a single warning."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from venousapp.env import env_bool, env_int, env_json_object, env_list, env_str

ROOT = Path(__file__).resolve().parent.parent


def production_env(**changes: str | None) -> dict[str, str]:
    """The process environment of a production deployment, with ``changes`` (None removes)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_", "SESSION_", "CSRF_", "DEBUG", "SECRET_KEY"))
        and key not in {"ALLOWED_HOSTS", "PYTEST_CURRENT_TEST"}
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "venousapp.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "venous.example.org",
    }
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_settings_production_mode_passes_check_deploy_without_warnings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_settings_check_deploy_fails_with_a_weak_secret_key():
    """The check above can fail: a short key is a deploy warning."""
    env = production_env(SECRET_KEY="short")
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout


def test_settings_missing_secret_key_without_debug_raises():
    result = run(["-c", "import venousapp.settings"], production_env(SECRET_KEY=None))
    assert result.returncode != 0
    assert "ImproperlyConfigured: Set the SECRET_KEY environment variable." in result.stderr


def test_settings_missing_secret_key_with_debug_uses_the_dev_key():
    env = production_env(SECRET_KEY=None, DEBUG="true")
    code = "import venousapp.settings as s; print(s.DEBUG, s.SECRET_KEY.startswith('dev-only'))"
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_settings_secret_key_is_read_from_a_file(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("from-a-docker-secret-" + "x" * 40 + "\n")
    env = production_env(SECRET_KEY=None, SECRET_KEY_FILE=str(secret))
    result = run(["-c", "import venousapp.settings as s; print(s.SECRET_KEY)"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "from-a-docker-secret-" + "x" * 40


def test_settings_debug_typo_stops_startup():
    result = run(["-c", "import venousapp.settings"], production_env(DEBUG="ture"))
    assert result.returncode != 0
    assert "DEBUG must be 'true' or 'false', not 'ture'." in result.stderr


def test_settings_production_defaults_are_hardened():
    code = (
        "import venousapp.settings as s; "
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS, s.ALLOWED_HOSTS)"
    )
    result = run(["-c", code], production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True True True 31536000 ['venous.example.org']"


# --- env helpers --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["yes", "no", "1", "0", "ture", "on", "t", " true"])
def test_env_bool_rejects_anything_but_true_or_false(monkeypatch, value):
    monkeypatch.setenv("VENOUS_FLAG", value)
    with pytest.raises(ImproperlyConfigured, match="VENOUS_FLAG must be 'true' or 'false'"):
        env_bool("VENOUS_FLAG", default=False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("True", True),
        ("false", False),
        ("FALSE", False),
        ("False", False),
        ("fAlSe", False),
    ],
)
def test_env_bool_accepts_true_and_false_in_any_case(monkeypatch, value, expected):
    monkeypatch.setenv("VENOUS_FLAG", value)
    assert env_bool("VENOUS_FLAG", default=not expected) is expected


@pytest.mark.parametrize("default", [True, False])
def test_env_bool_unset_or_empty_gives_the_default(monkeypatch, default):
    monkeypatch.delenv("VENOUS_FLAG", raising=False)
    assert env_bool("VENOUS_FLAG", default=default) is default
    monkeypatch.setenv("VENOUS_FLAG", "")
    assert env_bool("VENOUS_FLAG", default=default) is default


def test_env_str_reads_name_file(monkeypatch, tmp_path):
    secret = tmp_path / "db_password"
    secret.write_text("s3cret-from-file\n", encoding="utf-8")
    monkeypatch.setenv("VENOUS_PASSWORD", "from-the-environment")
    monkeypatch.setenv("VENOUS_PASSWORD_FILE", str(secret))
    assert env_str("VENOUS_PASSWORD") == "s3cret-from-file"


def test_env_str_reads_the_variable_without_a_file(monkeypatch):
    monkeypatch.delenv("VENOUS_PASSWORD_FILE", raising=False)
    monkeypatch.setenv("VENOUS_PASSWORD", "plain")
    assert env_str("VENOUS_PASSWORD") == "plain"


def test_env_str_missing_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("VENOUS_PASSWORD_FILE", str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError):
        env_str("VENOUS_PASSWORD", "default")


def test_env_str_missing_without_default_raises(monkeypatch):
    monkeypatch.delenv("VENOUS_PASSWORD", raising=False)
    monkeypatch.delenv("VENOUS_PASSWORD_FILE", raising=False)
    with pytest.raises(
        ImproperlyConfigured, match=r"Set the VENOUS_PASSWORD environment variable\."
    ):
        env_str("VENOUS_PASSWORD")
    monkeypatch.setenv("VENOUS_PASSWORD", "")
    with pytest.raises(ImproperlyConfigured):
        env_str("VENOUS_PASSWORD")
    assert env_str("VENOUS_PASSWORD", "fallback") == "fallback"


def test_env_int_rejects_a_non_number(monkeypatch):
    monkeypatch.setenv("VENOUS_NUMBER", "8h")
    with pytest.raises(ImproperlyConfigured, match="VENOUS_NUMBER must be a whole number"):
        env_int("VENOUS_NUMBER", 1)
    monkeypatch.setenv("VENOUS_NUMBER", "28800")
    assert env_int("VENOUS_NUMBER", 1) == 28800


def test_env_int_holds_a_number_within_its_bounds(monkeypatch):
    monkeypatch.setenv("VENOUS_HOUR", "24")
    with pytest.raises(ImproperlyConfigured, match="VENOUS_HOUR must be at most 23"):
        env_int("VENOUS_HOUR", 7, minimum=0, maximum=23)
    monkeypatch.setenv("VENOUS_HOUR", "23")
    assert env_int("VENOUS_HOUR", 7, minimum=0, maximum=23) == 23


@pytest.mark.parametrize("value", ["[1]", "{", "heparin=70"])
def test_env_json_object_refuses_anything_but_an_object(monkeypatch, value):
    monkeypatch.setenv("VENOUS_DEFAULTS", value)
    with pytest.raises(ImproperlyConfigured, match="VENOUS_DEFAULTS must be a JSON object"):
        env_json_object("VENOUS_DEFAULTS")


def test_env_json_object_reads_an_object_and_defaults_to_empty(monkeypatch):
    monkeypatch.setenv("VENOUS_DEFAULTS", '{"heparin_iu_per_kg": 70}')
    assert env_json_object("VENOUS_DEFAULTS") == {"heparin_iu_per_kg": 70}
    monkeypatch.delenv("VENOUS_DEFAULTS")
    assert env_json_object("VENOUS_DEFAULTS") == {}


def test_reading_the_settings_creates_nothing_on_disk(tmp_path):
    """Only starting the app makes the folders of the zero-setup broker."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "venousapp.settings",
        "DEBUG": "true",
    }
    read = "from django.conf import settings; print(settings.CELERY_BROKER_URL)"
    result = run(["-c", read], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("filesystem://")
    assert not (tmp_path / "var").exists()
    result = run(["-c", "import django; django.setup()"], env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "celery" / "queue").is_dir()


def test_env_list_splits_on_commas(monkeypatch):
    monkeypatch.setenv("VENOUS_HOSTS", " a.example.org, ,b.example.org ")
    assert env_list("VENOUS_HOSTS", []) == ["a.example.org", "b.example.org"]
    monkeypatch.delenv("VENOUS_HOSTS")
    assert env_list("VENOUS_HOSTS", ["x"]) == ["x"]


def test_manage_py_works_in_a_checkout_without_configuration(tmp_path):
    """`python manage.py evaluate` (the evaluate contract's CLI) needs no variables set; a
    deployment's SECRET_KEY keeps DEBUG off (test above)."""
    from guidelines.engine import evaluate

    document = {"lesion_entity": "nivl", "segments_involved": ["CIV"], "ceap": "C3,s"}
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "evaluate", "-"],
        cwd=ROOT,
        env=env,
        input=json.dumps(document),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        **json.loads(json.dumps(evaluate(document))),
        "warnings": [],
    }
