from __future__ import annotations

from django.urls import path

from apps.core import api_converters  # noqa: F401  (registers <id:...>)
from apps.portfolio import apis

urlpatterns = [
    path("portfolios/", apis.PortfolioListCreateApi.as_view(), name="api-portfolios"),
    path("portfolios/<id:pk>/", apis.PortfolioDetailApi.as_view(), name="api-portfolio"),
    path("portfolios/<id:pk>/reset/", apis.PortfolioResetApi.as_view(), name="api-portfolio-reset"),
    path("portfolios/<id:pk>/balances/", apis.PortfolioBalanceListApi.as_view(), name="api-portfolio-balances"),
    path("portfolios/<id:pk>/positions/", apis.PortfolioPositionListApi.as_view(), name="api-portfolio-positions"),
    path("portfolios/<id:pk>/metrics/", apis.PortfolioMetricsApi.as_view(), name="api-portfolio-metrics"),
    path("portfolios/<id:pk>/equity/", apis.PortfolioEquityApi.as_view(), name="api-portfolio-equity"),
    path("orders/", apis.OrderListCreateApi.as_view(), name="api-orders"),
    path("orders/oco/", apis.OrderOcoCreateApi.as_view(), name="api-orders-oco"),
    path("orders/<id:pk>/", apis.OrderDetailApi.as_view(), name="api-order"),
    path("orders/<id:pk>/cancel/", apis.OrderCancelApi.as_view(), name="api-order-cancel"),
    path("fills/", apis.FillListApi.as_view(), name="api-fills"),
    path("fills/export/", apis.FillExportApi.as_view(), name="api-fills-export"),
]
