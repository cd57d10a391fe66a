from __future__ import annotations

from django.urls import path

from apps.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("ui/feeds/", views.feeds_fragment, name="feeds-fragment"),
    path("status/", views.system_status, name="system-status"),
    path("settings/", views.user_settings, name="settings"),
    path("settings/notifications/", views.notification_prefs_save, name="settings-notifications"),
    path("markets/", views.market_index, name="market-index"),
    path("markets/<str:exchange>/<str:symbol>/", views.market_page, name="market-page"),
    path("markets/<str:exchange>/<str:symbol>/chart/", views.market_chart_data, name="market-chart-data"),
]
