from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from apps.core import views
from apps.core.auth_forms import LockoutAuthenticationForm
from apps.core.auth_views import LogoutWithMessageView

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="core/login.html", authentication_form=LockoutAuthenticationForm),
        name="login",
    ),
    path("logout/", LogoutWithMessageView.as_view(), name="logout"),
    path("ui/banner/", views.banner_fragment, name="banner-fragment"),
]
