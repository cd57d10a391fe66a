from __future__ import annotations

import pytest

from config import env
from config.env import EnvError


@pytest.mark.parametrize(
    ("reader", "value", "fragment"),
    [
        (lambda: env.env_bool("X_FLAG"), "maybe", "X_FLAG: expected a boolean"),
        (lambda: env.env_int("X_NUM", 1), "12a", "X_NUM: expected an integer"),
        (lambda: env.env_int("X_NUM", 1, minimum=5), "3", "X_NUM: expected an integer >= 5"),
        (lambda: env.env_float("X_NUM", 1.0), "fast", "X_NUM: expected a number"),
        (lambda: env.env_choice("X_CHOICE", "a", ("a", "b")), "c", "X_CHOICE: expected one of a, b"),
        (lambda: env.env_url("X_URL", schemes=("redis",)), "http://h", "X_URL: expected redis://"),
    ],
)
def test_bad_typed_values_name_the_variable(monkeypatch, reader, value, fragment):
    name = fragment.split(":")[0]
    monkeypatch.setenv(name, value)
    with pytest.raises(EnvError, match=fragment.replace("(", r"\(")):
        reader()


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("1", True), ("YES", True), ("off", False), ("", False)])
def test_bool_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env.env_bool("X_FLAG") is expected


def test_defaults_when_unset(monkeypatch):
    monkeypatch.delenv("X_UNSET", raising=False)
    assert env.env_int("X_UNSET", 7) == 7
    assert env.env_list("X_UNSET", ["a"]) == ["a"]
    assert env.env_bool("X_UNSET", True) is True


def test_secret_from_file(monkeypatch, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("s3cr3t\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret_file))
    assert env.env_secret("X_SECRET") == "s3cr3t"


def test_url_errors_mask_passwords(monkeypatch):
    monkeypatch.setenv("X_URL", "ftp://user:hunter2@host/db")
    with pytest.raises(EnvError) as excinfo:
        env.env_url("X_URL", schemes=("postgres",))
    assert "hunter2" not in str(excinfo.value)
    assert "***" in str(excinfo.value)


def test_database_from_url_postgres():
    db = env.database_from_url("DATABASE_URL", "postgres://u:p%40ss@db.example:6543/trading")
    assert db == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "trading",
        "USER": "u",
        "PASSWORD": "p@ss",
        "HOST": "db.example",
        "PORT": "6543",
    }


def test_database_from_url_rejects_unknown_scheme():
    with pytest.raises(EnvError, match="DATABASE_URL: expected postgres"):
        env.database_from_url("DATABASE_URL", "mysql://h/db")
