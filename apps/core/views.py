from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core import pages
from apps.core.exceptions import ApplicationError


def home(request: HttpRequest) -> HttpResponse:
    # Public market overview; the portfolio and bot panels only for a signed-in trader.
    signed_in = request.user.is_authenticated
    context = {
        **pages.feeds_context(),
        "watchlist": pages.watchlist_rows(),
        "portfolios": pages.portfolio_summaries(owner=request.user) if signed_in else [],
        "bots": pages.running_bots(owner=request.user) if signed_in else [],
    }
    return render(request, "core/home.html", context)


def feeds_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "core/_feeds.html", pages.feeds_context())


def banner_fragment(request: HttpRequest) -> HttpResponse:
    # Polled by every page (htmx) so the safety score stays live; the context processor fills it.
    return render(request, "core/_banner.html")


@login_required
def system_status(request: HttpRequest) -> HttpResponse:
    template = "core/_status_body.html" if request.headers.get("HX-Request") else "core/status.html"
    context = {
        "components": pages.status_components(),
        **pages.feeds_context(),
        "safety": pages.safety_status(),
        "alerts": pages.recent_alerts(),
    }
    return render(request, template, context)


def _settings_page(request: HttpRequest, *, prefs_form: Any = None, status: int = 200) -> HttpResponse:
    from apps.core.forms import NotificationPrefsForm
    from apps.ops.preferences import notification_preference_get
    from apps.portfolio.forms import PortfolioCreateForm
    from apps.portfolio.models import Portfolio

    if prefs_form is None:
        preference = notification_preference_get(user=request.user)
        prefs_form = NotificationPrefsForm(user=request.user, preference=preference)
    context = {
        "portfolios": Portfolio.objects.filter(owner=request.user).order_by("name"),
        "create_form": PortfolioCreateForm(),
        "prefs_form": prefs_form,
    }
    return render(request, "core/settings.html", context, status=status)


@login_required
def user_settings(request: HttpRequest) -> HttpResponse:
    return _settings_page(request)


@login_required
@require_POST
def notification_prefs_save(request: HttpRequest) -> HttpResponse:
    from apps.core.forms import NotificationPrefsForm
    from apps.ops.preferences import notification_preference_save

    form = NotificationPrefsForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            preference = notification_preference_save(user=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.apply_errors(exc.fields or {"__all__": [exc.message]})
        else:
            messages.success(request, "Notification preferences saved.")
            if preference.new_signing_secret:  # shown this once; deliveries are signed with it
                messages.info(
                    request, f"Webhook signing secret (shown once, store it now): {preference.new_signing_secret}"
                )
            return redirect("settings")
    # Invalid: the page again with the errors next to the fields, nothing saved.
    return _settings_page(request, prefs_form=form, status=400)
