from __future__ import annotations

from django.urls import path

from apps.bots import views

urlpatterns = [
    path("bots/", views.bot_list_view, name="bot-list"),
    path("bots/new/", views.bot_create_view, name="bot-create"),
    path("bots/params/", views.bot_params_fragment, name="bot-params"),
    path("bots/validate/", views.bot_validate_view, name="bot-validate"),
    path("bots/<int:bot_id>/", views.bot_detail_view, name="bot-detail"),
    path("bots/<int:bot_id>/edit/", views.bot_edit_view, name="bot-edit"),
    path("bots/<int:bot_id>/backtests/", views.backtest_start_view, name="bot-backtest-start"),
    path("bots/<int:bot_id>/performance/", views.bot_performance_fragment, name="bot-performance"),
    path("bots/<int:bot_id>/reconcile/", views.bot_reconcile_view, name="bot-reconcile"),
    path("bots/<int:bot_id>/<str:action>/", views.bot_action_view, name="bot-action"),
    path("backtests/<int:backtest_id>/", views.backtest_detail_view, name="backtest-detail"),
]
