from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def banner_fragment(request: HttpRequest) -> HttpResponse:
    # Polled by every page (htmx) so the safety score stays live; the context processor fills it.
    return render(request, "core/_banner.html")
