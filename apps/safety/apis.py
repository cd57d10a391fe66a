"""Safety API: the environment status (score, every check) and the audit log."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api_query import query_data
from apps.safety.models import AuditEvent
from apps.safety.selectors import audit_event_list, safety_status_get
from apps.safety.serializers import (
    SafetyAuditEventFilterSerializer,
    SafetyAuditEventSerializer,
    SafetyStatusSerializer,
)

TAGS = ["safety"]


class SafetyStatusApi(APIView):
    @extend_schema(tags=TAGS, operation_id="safety_status", responses={200: SafetyStatusSerializer})
    def get(self, request: Request) -> Response:
        return Response(SafetyStatusSerializer(safety_status_get()).data)


class SafetyAuditEventListApi(ListAPIView):
    """The signed-in user's own audit events; staff see everyone's."""

    serializer_class = SafetyAuditEventSerializer

    @extend_schema(tags=TAGS, operation_id="safety_audit_events_list", parameters=[SafetyAuditEventFilterSerializer])
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[AuditEvent]:
        filters = SafetyAuditEventFilterSerializer(data=query_data(self.request))
        filters.is_valid(raise_exception=True)
        return audit_event_list(user=self.request.user, filters=filters.validated_data)
