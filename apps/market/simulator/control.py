"""HTTP control endpoint on each port: POST /__sim__/faults {"action": ...}; app keys."""

from __future__ import annotations

from aiohttp import web

SIM = web.AppKey("sim", object)
EXCHANGE = web.AppKey("exchange", str)
FAULTS = web.AppKey("faults", object)  # set by the server: the Faults that drive both ports


async def control_handler(request: web.Request) -> web.Response:
    try:
        spec = await request.json()
        request.app[FAULTS].apply(request.app[EXCHANGE], spec)  # type: ignore[attr-defined]
    except (ValueError, TypeError) as exc:
        return web.json_response({"ok": False, "error": str(exc)}, status=400)
    return web.json_response({"ok": True})


class RestAbort(Exception):
    """Raised inside a REST handler to answer with a ready-made (error) response."""

    def __init__(self, response: web.Response) -> None:
        self.response = response


def rest_handler(fn):  # type: ignore[no-untyped-def]
    """Wrap ``fn(sim, request)`` as an aiohttp handler that answers RestAbort's response."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await fn(request.app[SIM], request)
        except RestAbort as abort:
            return abort.response

    return wrapped
