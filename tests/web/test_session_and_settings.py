"""Logging out says so; the Settings page's create form posts to the portfolio form."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="trader", password="pw-123456789")


def test_logging_out_shows_a_message(client, user):
    client.force_login(user)
    response = client.post("/logout/", follow=True)
    assert response.redirect_chain[-1][0].endswith("/login/")
    assert "You are logged out." in response.content.decode()


def test_settings_page_has_the_create_form_with_labels(client, user):
    client.force_login(user)
    html = client.get("/settings/").content.decode()
    assert 'action="/portfolios/new/"' in html and '<label for="id_starting_quote">Starting USDT</label>' in html
