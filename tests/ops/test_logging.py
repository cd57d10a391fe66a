from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest
from django.conf import settings

from apps.core.logging import RequestContextFilter, request_id_var


@pytest.mark.django_db
def test_json_log_lines_carry_request_id_user_and_role(client, django_user_model):
    config = settings.LOGGING
    formatter = logging.config.DictConfigurator(config).configure_custom(dict(config["formatters"]["json"]))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(RequestContextFilter())
    logger = logging.getLogger("tests.ops.json")
    logger.addHandler(handler)
    logger.propagate = False
    token = request_id_var.set("req-123")
    try:
        logger.warning("order placed", extra={"portfolio_id": 7})
    finally:
        request_id_var.reset(token)
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["message"] == "order placed"
    assert line["request_id"] == "req-123"
    assert line["user_id"] == "-"
    assert line["level"] == "WARNING"
    assert line["role"] == "test"
    assert line["portfolio_id"] == 7


def test_request_id_is_echoed(client):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
