"""HTTP control endpoint on each port: POST /__sim__/faults {"action": ...}; app keys."""

from __future__ import annotations

from aiohttp import web

SIM = web.AppKey("sim", object)
EXCHANGE = web.AppKey("exchange", str)


async def control_handler(request: web.Request) -> web.Response:
    sim = request.app[SIM]
    try:
        spec = await request.json()
        sim.faults.apply(request.app[EXCHANGE], spec)  # type: ignore[attr-defined]
    except (ValueError, TypeError) as exc:
        return web.json_response({"ok": False, "error": str(exc)}, status=400)
    return web.json_response({"ok": True})
