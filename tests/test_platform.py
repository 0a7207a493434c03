"""Platform-level promises: schema and docs served, production settings deploy-safe, demo data."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from organizations.models import Organization

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/me/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()  # Swagger UI comes from our own static files


def test_production_settings_pass_check_deploy():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "k" * 20 + "-production-like-secret-key-with-enough-entropy-0123456789",
        "ALLOWED_HOSTS": "kitstreet.example.com",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://kitstreet@127.0.0.1:5432/kitstreet"),
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "REDIS_URL": "redis://127.0.0.1:6379/1",
    }
    for name in ("SECURE_SSL_REDIRECT", "SECURE_COOKIES"):  # the defaults are what is checked
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


def test_production_settings_refuse_a_weak_secret_key():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "SECRET_KEY": "short",
           "DATABASE_URL": "postgres://x@127.0.0.1/x"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("missing, broker", [
    ("CELERY_BROKER_URL", None), ("CELERY_BROKER_URL", "filesystem://"), ("REDIS_URL", "redis://127.0.0.1:6379/0"),
])
def test_production_settings_refuse_to_start_without_a_broker_or_redis(missing, broker):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": "k" * 60, "ALLOWED_HOSTS": "x.example.com", "DATABASE_URL": "postgres://x@127.0.0.1/x",
           "REDIS_URL": "redis://127.0.0.1:6379/1"}
    env.pop("CELERY_BROKER_URL", None)
    if broker:
        env["CELERY_BROKER_URL"] = broker
    if missing == "REDIS_URL":
        env.pop("REDIS_URL")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert missing in result.stderr


@pytest.mark.django_db
def test_seed_demo_creates_the_demo_logins_and_is_skipped_when_not_empty(capsys):
    call_command("seed_demo", "--seed", "3", verbosity=0)
    User = get_user_model()
    for username in ("buyer", "supplier", "operator"):
        assert User.objects.get(username=username).check_password("kitstreet")
    assert User.objects.get(username="operator").is_staff
    supplier_orgs = Organization.objects.filter(memberships__user__username="supplier")
    assert {o.kinds[1] for o in supplier_orgs} == {"trader", "solution_house"}
    assert Organization.objects.filter(memberships__user__username="buyer", is_buyer=True).exists()

    count = Organization.objects.count()
    call_command("seed_demo", "--if-empty", verbosity=0)
    assert Organization.objects.count() == count
    assert "buyer" in capsys.readouterr().out
