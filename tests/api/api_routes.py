"""The API's routes as the URL conf has them: tests that must cover every endpoint walk this
list, so a new endpoint is covered (or the test names it) without anyone remembering to."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

WRITE_METHODS = ("post", "put", "patch")
# Plain Django views under /api/ that are no endpoint of their own (they answer 404 to anything).
NOT_ENDPOINTS = {"api_not_found"}


@dataclass(frozen=True)
class ApiRoute:
    name: str
    route: str
    view: type
    kwargs: tuple[str, ...]

    def methods(self, wanted: tuple[str, ...]) -> list[str]:
        return [method for method in wanted if hasattr(self.view, method)]


def _walk(patterns: list, prefix: str) -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        else:
            yield route, entry


def api_routes() -> list[ApiRoute]:
    """Every DRF view mounted under /api/, with the URL keyword arguments it takes."""
    routes = []
    for route, pattern in _walk(get_resolver().url_patterns, ""):
        if not route.lstrip("^").startswith("api/"):
            continue
        view = getattr(pattern.callback, "cls", None)
        if view is None:
            assert pattern.callback.__name__ in NOT_ENDPOINTS, f"{route}: a plain view under /api/ (use DRF)"
            continue
        assert pattern.name, f"{route}: name the route (tests reverse it)"
        routes.append(ApiRoute(pattern.name, route, view, tuple(pattern.pattern.regex.groupindex)))
    return routes
