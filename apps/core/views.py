from __future__ import annotations

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
        "feeds": pages.feed_rows(),
        "watchlist": pages.watchlist_rows(),
        "portfolios": pages.portfolio_summaries(owner=request.user) if signed_in else [],
        "bots": pages.running_bots(owner=request.user) if signed_in else [],
    }
    return render(request, "core/home.html", context)


def feeds_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "core/_feeds.html", {"feeds": pages.feed_rows()})


def banner_fragment(request: HttpRequest) -> HttpResponse:
    # Polled by every page (htmx) so the safety score stays live; the context processor fills it.
    return render(request, "core/_banner.html")


@login_required
def system_status(request: HttpRequest) -> HttpResponse:
    template = "core/_status_body.html" if request.headers.get("HX-Request") else "core/status.html"
    context = {
        "components": pages.status_components(),
        "feeds": pages.feed_rows(),
        "safety": pages.safety_status(),
        "alerts": pages.recent_alerts(),
    }
    return render(request, template, context)


@login_required
def user_settings(request: HttpRequest) -> HttpResponse:
    from apps.core.forms import NotificationPrefsForm
    from apps.portfolio.forms import PortfolioCreateForm
    from apps.portfolio.models import Portfolio

    context = {
        "portfolios": Portfolio.objects.filter(owner=request.user).order_by("name"),
        "create_form": PortfolioCreateForm(),
        "prefs_form": NotificationPrefsForm(user=request.user),
    }
    return render(request, "core/settings.html", context)


@login_required
@require_POST
def notification_prefs_save(request: HttpRequest) -> HttpResponse:
    from apps.core.forms import NotificationPrefsForm

    form = NotificationPrefsForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            form.save()
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Notification preferences saved.")
    else:
        messages.error(request, "Check the notification preferences: " + " ".join(form.errors_text()))
    return redirect("settings")


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    # No context processors that touch the database: the 500 page must render when it is down.
    from django.template import loader

    return HttpResponse(loader.get_template("errors/500.html").render({}), status=500)
