"""Alerts API: the notifications the alerting pipeline recorded and the notification rules.

A user sees their own rule (the settings page's "user:<id>" rule) and what it sent, and may
create, change and delete that rule; staff see every rule and notification (read-only here:
shared rules are edited in the admin or in settings)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api_query import query_data
from apps.core.api_schema import ERROR_DESCRIPTIONS, ErrorResponseSerializer
from apps.core.exceptions import ApplicationError
from apps.ops.models import AlertNotification, AlertRule
from apps.ops.selectors import alert_notification_list, alert_rule_list, user_rule_name
from apps.ops.serializers import (
    AlertNotificationFilterSerializer,
    AlertNotificationOutputSerializer,
    AlertRuleCreateInputSerializer,
    AlertRuleOutputSerializer,
    AlertRuleUpdateInputSerializer,
)
from apps.ops.services import alert_rule_user_create, alert_rule_user_delete, alert_rule_user_update

TAGS = ["alerts"]
CONFLICT = {409: OpenApiResponse(ErrorResponseSerializer, description=ERROR_DESCRIPTIONS["409"])}


class NotOwnRuleError(ApplicationError):
    status = 403
    code = "permission_denied"


def _visible_rule(request: Request, pk: int) -> AlertRule:
    return get_object_or_404(alert_rule_list(user=request.user), pk=pk)


def _own_rule(request: Request, pk: int) -> AlertRule:
    rule = _visible_rule(request, pk)
    if rule.name != user_rule_name(request.user):
        # Only staff get here (others cannot see the rule: 404).
        raise NotOwnRuleError("Only your own notification rule can be changed here; use the admin.")
    return rule


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
        description="Alert notifications, newest first: those of your own rule (staff: all).",
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)


class AlertNotificationDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="alerts_retrieve", responses={200: AlertNotificationOutputSerializer})
    def get(self, request: Request, pk: int) -> Response:
        notification = get_object_or_404(alert_notification_list(user=request.user), pk=pk)
        return Response(AlertNotificationOutputSerializer(notification).data)


class AlertRuleListCreateApi(ListAPIView):
    serializer_class = AlertRuleOutputSerializer

    def get_queryset(self) -> QuerySet[AlertRule]:
        return alert_rule_list(user=self.request.user)

    @extend_schema(
        tags=TAGS, operation_id="alerts_rules_list", description="Your notification rule (staff: every rule)."
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        operation_id="alerts_rules_create",
        request=AlertRuleCreateInputSerializer,
        responses={201: AlertRuleOutputSerializer, **CONFLICT},
        description="Create your notification rule (alerts by email). One per user: 409 when you have one.",
    )
    def post(self, request: Request) -> Response:
        data = AlertRuleCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = alert_rule_user_create(user=request.user, **data.validated_data)
        return Response(
            AlertRuleOutputSerializer(rule, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class AlertRuleDetailApi(APIView):
    @extend_schema(tags=TAGS, operation_id="alerts_rules_retrieve", responses={200: AlertRuleOutputSerializer})
    def get(self, request: Request, pk: int) -> Response:
        rule = _visible_rule(request, pk)
        return Response(AlertRuleOutputSerializer(rule, context={"request": request}).data)

    @extend_schema(
        tags=TAGS,
        operation_id="alerts_rules_partial_update",
        request=AlertRuleUpdateInputSerializer,
        responses={200: AlertRuleOutputSerializer},
        description="Change your own rule.",
    )
    def patch(self, request: Request, pk: int) -> Response:
        rule = _own_rule(request, pk)
        data = AlertRuleUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rule = alert_rule_user_update(rule=rule, actor=request.user, **data.validated_data)
        return Response(AlertRuleOutputSerializer(rule, context={"request": request}).data)

    @extend_schema(
        tags=TAGS,
        operation_id="alerts_rules_destroy",
        request=None,
        responses={204: None},
        description="Delete your own rule (and the record of what it sent).",
    )
    def delete(self, request: Request, pk: int) -> Response:
        alert_rule_user_delete(rule=_own_rule(request, pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
