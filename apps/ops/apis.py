"""Alerts API: the notifications the alerting pipeline recorded, the alert rules, and the
signed-in trader's notification preferences (alerts about their own bots).

A trader sees the rule behind their preferences and what it sent, and reads and writes their
preferences; staff see every rule and notification (read-only here: operators' rules are
edited in the admin or in settings)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api_query import query_data
from apps.core.api_schema import error_responses
from apps.core.api_serializers import EmptyInputSerializer
from apps.core.exceptions import NotFoundError
from apps.ops.models import AlertNotification, AlertRule, NotificationPreference
from apps.ops.preferences import (
    notification_preference_get,
    notification_preference_save,
    notification_webhook_secret_rotate,
)
from apps.ops.selectors import alert_notification_list, alert_rule_list
from apps.ops.serializers import (
    AlertNotificationFilterSerializer,
    AlertNotificationOutputSerializer,
    AlertPreferenceInputSerializer,
    AlertPreferenceOutputSerializer,
    AlertPreferencePatchSerializer,
    AlertRuleOutputSerializer,
    WebhookSecretOutputSerializer,
    preference_values,
)
from apps.ops.services import notification_preference_delete

TAGS = ["alerts"]


class AlertNotificationListApi(ListAPIView):
    serializer_class = AlertNotificationOutputSerializer

    def get_queryset(self) -> QuerySet[AlertNotification]:
        filters = AlertNotificationFilterSerializer(data=query_data(self.request))
        filters.is_valid(raise_exception=True)
        return alert_notification_list(user=self.request.user, filters=filters.validated_data)

    @extend_schema(
        tags=TAGS,
        operation_id="alerts_list",
        parameters=[AlertNotificationFilterSerializer],
        description="Alert notifications, newest first: those sent for your preferences (staff: all).",
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)


class AlertNotificationDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="alerts_retrieve", responses={200: AlertNotificationOutputSerializer})
    def get(self, request: Request, pk: int) -> Response:
        notification = get_object_or_404(alert_notification_list(user=request.user), pk=pk)
        return Response(AlertNotificationOutputSerializer(notification).data)


class AlertRuleListApi(ListAPIView):
    serializer_class = AlertRuleOutputSerializer

    def get_queryset(self) -> QuerySet[AlertRule]:
        return alert_rule_list(user=self.request.user)

    @extend_schema(
        tags=TAGS,
        operation_id="alerts_rules_list",
        description="The rule behind your notification preferences (staff: every rule).",
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)


class AlertRuleDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="alerts_rules_retrieve", responses={200: AlertRuleOutputSerializer})
    def get(self, request: Request, pk: int) -> Response:
        rule = get_object_or_404(alert_rule_list(user=request.user), pk=pk)
        return Response(AlertRuleOutputSerializer(rule, context={"request": request}).data)


PREFERENCE_RULES = (
    "422 when email alerts are on without an address (yours or `email`), or the webhook's host is "
    "not public (a local or internal name, or one that resolves to a private address)."
)


def _preference_response(preference: NotificationPreference) -> Response:
    return Response(AlertPreferenceOutputSerializer(preference).data)


class AlertPreferenceSecretApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="alerts_preferences_secret_rotate",
        request=None,
        responses={200: WebhookSecretOutputSerializer, **error_responses(409)},
        description="A new signing secret for your webhook, shown only in this response. 409 until a "
        "webhook URL is saved.",
    )
    def post(self, request: Request) -> Response:
        EmptyInputSerializer(data=request.data).is_valid(raise_exception=True)
        secret = notification_webhook_secret_rotate(user=request.user)
        return Response(WebhookSecretOutputSerializer({"signing_secret": secret}).data)


class AlertPreferenceApi(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="alerts_preferences_retrieve",
        responses={200: AlertPreferenceOutputSerializer},
        description="Your notification preferences; 404 until you save some.",
    )
    def get(self, request: Request) -> Response:
        preference = notification_preference_get(user=request.user)
        if preference is None:
            raise NotFoundError("No notification preferences saved yet.")
        return _preference_response(preference)

    @extend_schema(
        tags=TAGS,
        operation_id="alerts_preferences_update",
        request=AlertPreferenceInputSerializer,
        responses={200: AlertPreferenceOutputSerializer, **error_responses(422)},
        description="Save all your notification preferences (omitted fields take their defaults). " + PREFERENCE_RULES,
    )
    def put(self, request: Request) -> Response:
        data = AlertPreferenceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _preference_response(notification_preference_save(user=request.user, **data.validated_data))

    @extend_schema(
        tags=TAGS,
        operation_id="alerts_preferences_partial_update",
        request=AlertPreferencePatchSerializer,
        responses={200: AlertPreferenceOutputSerializer, **error_responses(422)},
        description="Change some of your notification preferences (the rest stay as they are). " + PREFERENCE_RULES,
    )
    def patch(self, request: Request) -> Response:
        data = AlertPreferencePatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = preference_values(notification_preference_get(user=request.user), dict(data.validated_data))
        return _preference_response(notification_preference_save(user=request.user, **values))

    @extend_schema(
        tags=TAGS,
        operation_id="alerts_preferences_destroy",
        request=None,
        responses={204: None},
        description="Delete your notification preferences and their delivery log; 404 if there are none.",
    )
    def delete(self, request: Request) -> Response:
        if not notification_preference_delete(user=request.user):
            raise NotFoundError("No notification preferences saved yet.")
        return Response(status=status.HTTP_204_NO_CONTENT)
