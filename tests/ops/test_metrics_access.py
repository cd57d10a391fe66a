"""/metrics on the web port: anonymous only where METRICS_ANONYMOUS (embedded, dev), else only
with ``Authorization: Bearer <METRICS_TOKEN>`` (production default)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import override_settings

from tests.config.test_settings_modes import MODE_VARS, PROD_ENV, ROOT

pytestmark = pytest.mark.django_db
TOKEN = "scrape-token-0123456789"


@override_settings(METRICS_ANONYMOUS=False, METRICS_TOKEN="")
def test_production_without_a_token_serves_nobody(client):
    response = client.get("/metrics")
    assert response.status_code == 404
    assert b"ptp_" not in response.content
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@override_settings(METRICS_ANONYMOUS=False, METRICS_TOKEN=TOKEN)
def test_production_needs_the_bearer_token(client):
    anonymous = client.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"ptp_" not in anonymous.content
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    scraped = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert scraped.status_code == 200 and b"ptp_" in scraped.content


@override_settings(METRICS_ANONYMOUS=True, METRICS_TOKEN=TOKEN)
def test_a_configured_token_is_required_even_where_anonymous_is_allowed(client):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


@override_settings(METRICS_ANONYMOUS=True, METRICS_TOKEN="")
def test_embedded_mode_serves_metrics_anonymously(client):
    assert client.get("/metrics").status_code == 200


def test_production_settings_refuse_anonymous_metrics():
    probe = "import django; django.setup(); from django.conf import settings as s; print(s.METRICS_ANONYMOUS)"
    env = {k: v for k, v in os.environ.items() if k not in MODE_VARS}
    env.update(PROD_ENV, DJANGO_SETTINGS_MODULE="config.settings.production")
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_prometheus_presents_the_token_the_web_container_reads():
    import re

    import yaml

    prometheus = yaml.safe_load((ROOT / "monitoring" / "prometheus.yml").read_text())
    (web_job,) = [job for job in prometheus["scrape_configs"] if job["job_name"] == "web"]
    token_path = web_job["authorization"]["credentials_file"]
    assert web_job["authorization"].get("type", "Bearer") == "Bearer"
    compose = yaml.safe_load((ROOT / "docker" / "docker-compose.prod.yml").read_text())
    assert "metrics_token" in compose["secrets"]
    for service in ("web", "prometheus"):
        assert "metrics_token" in compose["services"][service]["secrets"], service
    example = (ROOT / ".env.production.example").read_text()
    assert re.search(rf"^METRICS_TOKEN_FILE={re.escape(token_path)}$", example, flags=re.M)
    assert token_path == "/run/secrets/metrics_token"  # where compose mounts the secret
