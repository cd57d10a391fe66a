"""Per-user notification preferences (settings page): a trader hears about their own bots'
errors and kill switches, by real SMTP, and nothing about other traders' bots or operators'
alerts; operators' rules are unaffected."""

from __future__ import annotations

import pytest

from apps.core.exceptions import ApplicationError
from apps.ops.models import AlertNotification, AlertRule, NotificationPreference
from apps.ops.preferences import notification_preference_save, webhook_url_problem
from tests.ops import test_alerting

_raise = test_alerting._raise
smtp = test_alerting.smtp  # the real SMTP server fixture, shared with the alerting tests

pytestmark = pytest.mark.django_db


@pytest.fixture
def traders(django_user_model):
    from apps.bots.services import bot_create
    from apps.portfolio.services import portfolio_create

    made = {}
    for name in ("alice", "bob"):
        user = django_user_model.objects.create_user(
            username=name, password="pw-123456789", email=f"{name}@example.com"
        )
        portfolio = portfolio_create(owner=user, name="main", starting_balances={"USDT": "1000"})
        bot = bot_create(
            owner=user, portfolio=portfolio, name=f"{name}-rsi", symbol="BTCUSDT", strategy="rsi_mean_reversion"
        )
        made[name] = (user, portfolio, bot)
    return made


def _recipients(inbox):
    return sorted(address for rcpt, _ in inbox.messages for address in rcpt)


def test_bot_alerts_reach_only_their_owner(smtp, traders, django_capture_on_commit_callbacks):
    alice, _, alice_bot = traders["alice"]
    bob, bob_portfolio, bob_bot = traders["bob"]
    notification_preference_save(user=alice, email_enabled=True, kinds=["bot_error", "kill_switch"])
    notification_preference_save(user=bob, email_enabled=True, email="bob@desk.example", kinds=["kill_switch"])

    outcomes = _raise(django_capture_on_commit_callbacks, kind="bot_error", severity="warning",
                      title="Bot alice-rsi paused by an error", dedup_key=f"bot_error:bot{alice_bot.pk}",
                      data={"bot_id": alice_bot.pk})  # fmt: skip
    assert [(o.rule, o.status) for o in outcomes] == [(f"user:{alice.pk}", "pending")]
    assert _recipients(smtp) == ["alice@example.com"]
    assert "alice-rsi" in smtp.messages[0][1]["Subject"]

    # Bob opted out of bot errors; his bot's kill switch reaches him.
    assert _raise(django_capture_on_commit_callbacks, kind="bot_error", severity="warning", title="bob err",
                  data={"bot_id": bob_bot.pk}) == []  # fmt: skip
    _raise(django_capture_on_commit_callbacks, kind="kill_switch", severity="critical", title="bob kill",
           dedup_key=f"kill_switch:bot{bob_bot.pk}", data={"bot_id": bob_bot.pk})  # fmt: skip
    assert _recipients(smtp) == ["alice@example.com", "bob@desk.example"]
    # The watchdog's copy of a kill switch (from the audit trail: a portfolio id, no bot id)
    # stays with the operators: the trader is not told twice.
    assert _raise(django_capture_on_commit_callbacks, kind="kill_switch", severity="critical", title="audit copy",
                  dedup_key="kill_switch:audit", data={"portfolio_id": bob_portfolio.pk}) == []  # fmt: skip
    sent = AlertNotification.objects.filter(status="sent").values_list("rule__name", flat=True)
    assert sorted(sent) == sorted([f"user:{alice.pk}", f"user:{bob.pk}"])


def test_operator_alerts_do_not_go_to_traders_and_operator_rules_still_work(
    smtp,
    traders,
    django_capture_on_commit_callbacks,
):
    alice, _, alice_bot = traders["alice"]
    notification_preference_save(user=alice, email_enabled=True, kinds=["bot_error", "kill_switch"])
    AlertRule.objects.create(name="ops", kind="*", min_severity="warning", email_to="ops@example.com")
    _raise(django_capture_on_commit_callbacks, kind="feed_down", severity="critical", title="binance down",
           dedup_key="feed_down:binance")  # fmt: skip
    assert _recipients(smtp) == ["ops@example.com"]
    _raise(django_capture_on_commit_callbacks, kind="bot_error", severity="warning", title="alice err",
           dedup_key=f"bot_error:bot{alice_bot.pk}", data={"bot_id": alice_bot.pk})  # fmt: skip
    assert _recipients(smtp) == ["alice@example.com", "ops@example.com", "ops@example.com"]


def test_switching_off_stops_delivery(smtp, traders, django_capture_on_commit_callbacks):
    alice, _, alice_bot = traders["alice"]
    notification_preference_save(user=alice, email_enabled=True, kinds=["bot_error"])
    preference = notification_preference_save(user=alice, email_enabled=False, kinds=["bot_error"])
    assert preference.rule is not None and not preference.rule.enabled
    assert NotificationPreference.objects.count() == 1 and AlertRule.objects.filter(source="user").count() == 1
    assert _raise(django_capture_on_commit_callbacks, kind="bot_error", severity="warning", title="x",
                  data={"bot_id": alice_bot.pk}) == []  # fmt: skip
    assert smtp.messages == []


def test_invalid_preferences_are_refused_with_field_errors(traders):
    alice = traders["alice"][0]
    alice.email = ""
    with pytest.raises(ApplicationError) as exc:
        notification_preference_save(
            user=alice, email_enabled=True, webhook_url="http://hooks.example.com/x", kinds=["feed_down"]
        )
    assert set(exc.value.fields) == {"email", "webhook_url", "kinds"}
    assert not NotificationPreference.objects.exists()


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hooks.example.com/alerts", True),
        ("https://203.0.113.9/x", False),  # documentation range: not global
        ("https://8.8.8.8/x", True),
        ("http://hooks.example.com/x", False),
        ("https://127.0.0.1:8000/x", False),
        ("https://localhost/x", False),
        ("https://10.1.2.3/x", False),
        ("https://[::1]/x", False),
        ("https://169.254.169.254/latest", False),
        ("https://redis/x", False),
    ],
)
def test_user_webhooks_must_be_https_on_a_public_host(url, ok):
    assert (webhook_url_problem(url) is None) is ok
