"""What the bots app announces to whoever listens; it imports none of its listeners.

``bot_alert`` is sent after the commit that paused a bot on an error (kind ``bot_error``) or
stopped it by its drawdown kill switch (kind ``kill_switch``), with ``kind``, ``title``,
``reason`` and ``bot_id``. apps.ops listens (``apps/ops/listeners.py``) and routes it as an
alert by the trader's notification preferences.
"""

from __future__ import annotations

from django.dispatch import Signal

bot_alert = Signal()
