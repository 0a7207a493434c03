"""Worker health: send a trivial task to the Celery worker and read its result back.

Operators use the /system/ page; integrations `POST /api/v1/system/ping/` then poll
`GET /api/v1/tasks/{task_id}/`.
"""

from celery.result import AsyncResult
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.celery import app as celery_app
from config.tasks import worker_ping
from organizations.selectors import task_is_owned_by
from organizations.services import task_started


class WorkerPingApi(APIView):
    @extend_schema(
        request=None,
        responses={202: inline_serializer("TaskAccepted", {"task_id": serializers.CharField()}),
                   503: inline_serializer("Unavailable", {"detail": serializers.CharField()})},
        description="Send a ping through the broker. 503 with `Retry-After` while the broker is down.",
    )
    def post(self, request):
        # Not through the outbox: this asks "is the broker up now?", so fail fast (a 503).
        result = worker_ping.apply_async(args=[f"pong for {request.user.get_username()}"], retry=False)
        task_started(user=request.user, task_id=result.id)
        return Response({"task_id": result.id}, status=status.HTTP_202_ACCEPTED)


class TaskStatusApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "TaskStatus",
            {
                "task_id": serializers.CharField(),
                "state": serializers.CharField(help_text="PENDING, STARTED, SUCCESS, FAILURE or RETRY"),
                "result": serializers.JSONField(allow_null=True),
            },
        )
    )
    def get(self, request, task_id: str):
        """A task's state, for the user who started it (404 for anyone else)."""
        if not task_is_owned_by(task_id=task_id, user=request.user):
            raise Http404
        result = AsyncResult(task_id, app=celery_app)
        # Read the state once: each read asks the backend again, so asking "successful?" and then
        # "state?" can see PENDING and SUCCESS and answer SUCCESS without its result. A ready
        # state is cached on the AsyncResult, so `.result` below belongs to the same reading.
        state = result.state
        payload = None
        if state == "SUCCESS":
            payload = result.result
        elif state == "FAILURE":
            payload = {"error": type(result.result).__name__}
        return Response({"task_id": task_id, "state": state, "result": payload})


@login_required
def system_page(request):
    """Anyone may ping the worker; operators also see the database, the task outbox and webhooks."""
    from config.console import health_checks

    return render(request, "system.html", {"checks": health_checks() if request.user.is_staff else []})
