from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from apps.core import views
from apps.core.auth_forms import LockoutAuthenticationForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="core/login.html", authentication_form=LockoutAuthenticationForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("ui/banner/", views.banner_fragment, name="banner-fragment"),
    path("ui/feeds/", views.feeds_fragment, name="feeds-fragment"),
    path("status/", views.system_status, name="system-status"),
    path("settings/", views.user_settings, name="settings"),
    path("settings/notifications/", views.notification_prefs_save, name="settings-notifications"),
]
