"""docker-compose.yml and the Dockerfile, linted without a Docker engine."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = shutil.which("docker-compose")
needs_compose = pytest.mark.skipif(COMPOSE is None, reason="docker-compose is not installed")


def _config(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert COMPOSE is not None
    return subprocess.run(
        [COMPOSE, "-f", str(ROOT / "docker-compose.yml"), "config", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "PORT"}}
    return {**env, **extra}


@needs_compose
def test_compose_file_passes_docker_compose_config():
    result = _config("-q", env=_env(SECRET_KEY="compose-lint-" + "x" * 50))
    assert result.returncode == 0, result.stderr


@needs_compose
def test_compose_refuses_to_start_without_a_secret_key():
    result = _config("-q", env=_env())
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@needs_compose
def test_compose_services_wait_for_healthy_dependencies():
    result = _config("--services", env=_env(SECRET_KEY="compose-lint-" + "x" * 50))
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {"postgres", "redis", "web", "worker", "beat"}
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "condition: service_healthy" in text
    assert "django_celery_beat.schedulers:DatabaseScheduler" in text
    assert "pgdata:/var/lib/postgresql/data" in text


def test_redis_keeps_the_queue_across_a_restart():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    redis = compose["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert "redisdata:/data" in redis["volumes"]
    assert "redisdata" in compose["volumes"]


def test_dockerfile_runs_gunicorn_as_a_non_root_user():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11-slim" in text
    assert "collectstatic" in text
    assert "USER 10001" in text
    assert '"gunicorn", "venousapp.wsgi"' in text
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".git", "var"} <= set(ignored)
    assert "README.md" not in ignored  # pyproject.toml's readme: `pip install .` needs it
