from __future__ import annotations

from django.urls import path

from apps.portfolio import views

urlpatterns = [
    path("portfolios/", views.portfolio_list, name="portfolio-list"),
    path("portfolios/new/", views.portfolio_create_view, name="portfolio-create"),
    path("portfolios/<int:portfolio_id>/", views.portfolio_detail, name="portfolio-detail"),
    path("portfolios/<int:portfolio_id>/holdings/", views.portfolio_holdings_fragment, name="portfolio-holdings"),
    path("portfolios/<int:portfolio_id>/orders/", views.portfolio_orders_fragment, name="portfolio-orders"),
    path("portfolios/<int:portfolio_id>/fills/", views.portfolio_fills_fragment, name="portfolio-fills"),
    path(
        "portfolios/<int:portfolio_id>/orders/<int:order_id>/cancel/",
        views.order_cancel_view,
        name="portfolio-order-cancel",
    ),
    path("portfolios/<int:portfolio_id>/export/<str:kind>.csv", views.portfolio_export_csv, name="portfolio-export"),
    path("portfolios/<int:portfolio_id>/reset/", views.portfolio_reset_view, name="portfolio-reset"),
    path("markets/<str:exchange>/<str:symbol>/ticket/validate/", views.order_ticket_validate, name="ticket-validate"),
    path("markets/<str:exchange>/<str:symbol>/ticket/", views.order_ticket_submit, name="ticket-submit"),
]
