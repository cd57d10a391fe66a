"""HTTP security headers, CORS, login lockout and WebSocket limits (issue 9)."""

from __future__ import annotations

from config.env import env_int, env_ip_networks

# Content-Security-Policy without inline scripts or styles. ws:/wss: let the pages open
# their WebSockets to the same host whatever the scheme; data: covers Swagger UI's icons.
SECURITY_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'", "ws:", "wss:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
SECURITY_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=()"

# Only the API answers cross-origin requests, and only to CORS_ALLOWED_ORIGINS (base.py).
CORS_URLS_REGEX = r"^/api/.*$"

# Reverse proxies whose X-Forwarded-For is believed (IPs or CIDRs). Empty: nobody, the
# socket peer is the client. The one rule is apps/core/client_ip.py.
TRUSTED_PROXIES = env_ip_networks("TRUSTED_PROXIES", [])

# Brute-force lockout per (username, client IP), shared by the login page, the admin and
# the JWT obtain endpoint (see apps/core/lockout.py).
AUTHENTICATION_BACKENDS = ["apps.core.auth_backends.LockoutModelBackend"]
LOGIN_LOCKOUT_ATTEMPTS = env_int("LOGIN_LOCKOUT_ATTEMPTS", 5, minimum=1)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900, minimum=1)

# WebSocket API: simultaneous connections per user, server ping period, time allowed for
# the first {"type": "auth"} frame, and subscriptions per connection.
WS_MAX_CONNECTIONS_PER_USER = env_int("WS_MAX_CONNECTIONS_PER_USER", 10, minimum=1)
WS_HEARTBEAT_SECONDS = env_int("WS_HEARTBEAT_SECONDS", 25, minimum=1)
WS_AUTH_TIMEOUT_SECONDS = env_int("WS_AUTH_TIMEOUT_SECONDS", 10, minimum=1)
WS_MAX_SUBSCRIPTIONS = env_int("WS_MAX_SUBSCRIPTIONS", 50, minimum=1)
