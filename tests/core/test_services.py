"""The demo account: created once, a superuser, with the password given or a random one."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from apps.core.services import demo_user_ensure

pytestmark = pytest.mark.django_db


def test_demo_user_is_idempotent():
    first = demo_user_ensure()
    second = demo_user_ensure()
    assert first.created and first.password
    assert not second.created and second.password is None
    assert get_user_model().objects.filter(username="demo").count() == 1


def test_the_demo_user_is_a_superuser_with_the_password_given():
    result = demo_user_ensure(username="desk-demo", password="pw-for-tests")
    user = get_user_model().objects.get(username="desk-demo")
    assert (result.password, user.is_superuser, user.email) == ("pw-for-tests", True, "desk-demo@localhost")
    assert user.check_password("pw-for-tests")
