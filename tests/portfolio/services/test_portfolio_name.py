"""A taken portfolio name is one ConflictError (409 on the API, a form error on the pages),
never an IntegrityError (a 500 page)."""

from __future__ import annotations

import pytest

from apps.core.exceptions import ConflictError
from apps.portfolio.models import Portfolio
from apps.portfolio.services.portfolios import portfolio_create

pytestmark = pytest.mark.django_db


def test_duplicate_name_is_a_conflict_naming_the_field(user):
    portfolio_create(owner=user, name="Main")
    with pytest.raises(ConflictError) as caught:
        portfolio_create(owner=user, name="Main")
    assert caught.value.code == "name_taken"
    assert caught.value.fields == {"name": ["You already have a portfolio with this name."]}
    assert Portfolio.objects.filter(owner=user, name="Main").count() == 1


def test_another_owner_may_use_the_name(user, django_user_model):
    other = django_user_model.objects.create_user(username="other", password="pw-123456789")
    portfolio_create(owner=user, name="Main")
    assert portfolio_create(owner=other, name="Main").name == "Main"
