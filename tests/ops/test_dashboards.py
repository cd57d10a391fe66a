"""Every metric a Grafana panel or an alert rule queries is exported by the app."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

from apps.ops.apps import app_metrics_import_all

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
DASHBOARDS = sorted((MONITORING / "grafana" / "dashboards").glob("*.json"))
# Series Prometheus makes itself, not the app.
SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
PROMQL_WORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "inf", "nan"}
_CLAUSE = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_TOKEN = re.compile(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()")


def promql_metric_names(expr: str) -> set[str]:
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = _CLAUSE.sub("", expr)
    return {token for token in _TOKEN.findall(expr) if token.lower() not in PROMQL_WORDS}


def dashboard_exprs() -> dict[str, str]:
    exprs = {}
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel["targets"]:
                exprs[f"{path.name}: {panel['title']} [{target['refId']}]"] = target["expr"]
    return exprs


def rule_exprs() -> dict[str, str]:
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    return {f"alerts.yml: {r['alert']}": r["expr"] for g in rules["groups"] for r in g["rules"]}


@pytest.fixture(scope="module")
def exported_names(django_db_blocker) -> set[str]:
    from django.test import Client

    app_metrics_import_all()
    Client().get("/health/live")  # django-prometheus creates its HTTP metrics with the middleware
    names = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update({"counter": [f"{family.name}_total"]}.get(family.type, []))
        if family.type == "histogram":
            names.update(f"{family.name}{suffix}" for suffix in ("_bucket", "_count", "_sum"))
        names.update(sample.name for sample in family.samples)
    return names


def test_promql_name_extraction():
    expr = 'histogram_quantile(0.95, sum by (le, task) (rate(ptp_x_bucket{job="a b", le!="1"}[5m]))) > 1 and up'
    assert promql_metric_names(expr) == {"ptp_x_bucket", "up"}


def test_dashboards_exist_for_each_area():
    assert {p.stem for p in DASHBOARDS} == {"system-health", "market-data", "trading", "safety"}


@pytest.mark.parametrize("source", ["dashboards", "alert rules"])
def test_every_queried_metric_is_exported(source, exported_names):
    exprs = dashboard_exprs() if source == "dashboards" else rule_exprs()
    assert exprs
    missing = {
        where: sorted(promql_metric_names(expr) - exported_names - SYNTHETIC)
        for where, expr in exprs.items()
        if promql_metric_names(expr) - exported_names - SYNTHETIC
    }
    assert missing == {}


def test_dashboards_use_the_provisioned_datasource():
    datasource = yaml.safe_load((MONITORING / "grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)), path.name
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == uid
