"""docker/nginx.conf and docker-compose.prod.yml agree with the trusted-proxy rule
(apps/core/client_ip.py): nginx overwrites X-Forwarded-For from a fixed address that
.env.production.example lists as the only trusted proxy. No nginx binary is needed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
NGINX = (ROOT / "docker" / "nginx.conf").read_text()


def _without_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def test_forwarded_for_is_overwritten_not_appended():
    conf = _without_comments(NGINX)
    assert "$proxy_add_x_forwarded_for" not in conf
    assert re.search(r"proxy_set_header\s+X-Forwarded-For\s+\$remote_addr;", conf)


def test_no_location_drops_the_server_level_proxy_headers():
    # nginx: a level with any proxy_set_header of its own inherits none from above, so a
    # location that set one would forward the client's X-Forwarded-For untouched.
    conf = _without_comments(NGINX)
    for block in re.findall(r"location\s+[^{]+\{([^}]*)\}", conf):
        assert "proxy_set_header" not in block, block


def test_api_errors_from_nginx_itself_are_json():
    conf = _without_comments(NGINX)
    api = re.search(r"location\s+/api/\s*\{([^}]*)\}", conf)
    assert api and "error_page 413" in api.group(1) and "error_page 502 503 504" in api.group(1)
    for name in ("@api_too_large", "@api_unavailable"):
        block = re.search(rf"location\s+{name}\s*\{{(.*?)\n\s*\}}\n", conf, re.S).group(1)
        assert "default_type application/json" in block
        body = re.search(r"return\s+\d+\s+'([^']*)'", block).group(1)
        assert set(json.loads(body)["error"]) >= {"code", "message", "fields"}


def test_the_trusted_proxy_is_nginx_and_daphne_reads_no_proxy_headers():
    compose = yaml.safe_load((ROOT / "docker" / "docker-compose.prod.yml").read_text())
    nginx_ip = compose["services"]["nginx"]["networks"]["backend"]["ipv4_address"]
    example = (ROOT / ".env.production.example").read_text()
    assert re.search(rf"^TRUSTED_PROXIES={re.escape(nginx_ip)}$", example, re.M)
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    daphne = next(line for line in entrypoint.splitlines() if line.strip().startswith("exec daphne"))
    assert "--proxy-headers" not in daphne
