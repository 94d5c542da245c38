import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "painel.plugmessage.com.br",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
}


def _manage(*args, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", *PRODUCTION}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _setting(name, **env):
    result = _manage(
        "shell",
        "-c",
        f"from django.conf import settings; print(settings.{name})",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_deploy_check_passes_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_flags_the_development_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **env)

    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_debug_is_off_unless_the_environment_turns_it_on():
    assert _setting("DEBUG") == "False"
    assert _setting("DEBUG", DEBUG="1") == "True"


@pytest.mark.parametrize("name", ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"])
def test_cookies_are_secure_outside_development(name):
    assert _setting(name) == "True"
    assert _setting(name, DEBUG="1") == "False"


def test_the_suite_runs_on_the_database_and_broker_it_was_given(settings):
    from django.db import connection

    expected_db = (
        "postgresql"
        if os.environ.get("DATABASE_URL", "").startswith("postgres")
        else "sqlite"
    )
    assert connection.vendor == expected_db
    if os.environ.get("REDIS_URL"):
        assert settings.CELERY_BROKER_URL == os.environ["REDIS_URL"]
        assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
        assert settings.CACHES["default"]["LOCATION"] != os.environ["REDIS_URL"]
    else:
        assert settings.CELERY_BROKER_URL == "filesystem://"


def test_collectstatic_builds_the_production_manifest(tmp_path):
    result = _manage("collectstatic", "--noinput", VAR_DIR=str(tmp_path))

    assert result.returncode == 0, result.stderr
    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    assert "vendor/htmx/htmx.min.js" in manifest
    assert "css/app.css" in manifest


def test_media_go_to_an_s3_compatible_bucket_when_one_is_named():
    bucket = {
        "MEDIA_S3_BUCKET": "plugmessage-midia",
        "MEDIA_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "MEDIA_S3_ACCESS_KEY": "chave",
        "MEDIA_S3_SECRET_KEY": "segredo",
        "MEDIA_S3_REGION": "us-east-1",
    }
    result = _manage(
        "shell",
        "-c",
        "from django.core.files.storage import storages; s = storages['default']; "
        "print(type(s).__name__, s.bucket_name, s.url('media/x'))",
        **bucket,
    )

    assert result.returncode == 0, result.stderr
    name, bucket_name, url = result.stdout.strip().splitlines()[-1].split()
    assert (name, bucket_name) == ("S3Storage", "plugmessage-midia")
    # Private objects: links are signed, never public.
    assert url.startswith("http://127.0.0.1:9000/plugmessage-midia/media/x?")
    assert "Signature" in url


def test_media_are_files_under_var_dir_by_default():
    assert _setting("STORAGES['default']['BACKEND']") == (
        "django.core.files.storage.FileSystemStorage"
    )


def test_postgresql_binds_on_the_server_and_prepares_repeated_statements():
    url = "postgres://postgres@127.0.0.1:5432/plugmessage"
    options = "DATABASES['default']['OPTIONS']"
    assert _setting(options, DATABASE_URL=url) == (
        "{'server_side_binding': True, 'prepare_threshold': 5}"
    )
    # Behind a pooler in transaction mode: nothing prepared.
    assert _setting(options, DATABASE_URL=url, DATABASE_PREPARE_THRESHOLD="0") == (
        "{'server_side_binding': True, 'prepare_threshold': None}"
    )
