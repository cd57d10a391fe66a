"""ASGI entry point: HTTP through Django, WebSockets through Channels routing."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402

if settings.PROCESS_ROLE == "web":
    # A bare `daphne config.asgi:application` runs no system checks: enforce safety here.
    from apps.safety.checks import safety_startup_enforce

    safety_startup_enforce(process="web (daphne)")

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

if settings.PROCESS_ROLE in ("web", "embedded"):
    # A long-running server from here on (daphne, `serve`): keep full GC passes off the
    # WebSocket fan-out's tail latency (apps/core/gc_tuning.py). Not in tests or tools.
    from apps.core.gc_tuning import gc_server_tune

    gc_server_tune()
