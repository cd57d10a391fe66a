from __future__ import annotations

from django.urls import path

from apps.market import views

urlpatterns = [
    path("markets/", views.market_index, name="market-index"),
    path("markets/<str:exchange>/<str:symbol>/", views.market_page, name="market-page"),
    path("markets/<str:exchange>/<str:symbol>/chart/", views.market_chart_data, name="market-chart-data"),
]
