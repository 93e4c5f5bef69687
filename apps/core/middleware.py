from django.http import HttpResponseBadRequest, JsonResponse

from apps.core.selectors import health_report


class HealthCheckMiddleware:
    """Answer /healthz before tenant resolution: load balancers probe by IP or any host."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path in ("/healthz", "/healthz/"):
            report = health_report()
            return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
        return self.get_response(request)


class NulCharacterMiddleware:
    """Refuse a NUL character anywhere in the path or the query string with 400.

    PostgreSQL text cannot hold NUL (psycopg raises DataError), so any value that reaches a
    query — a QR code in /c/<code>/, a payment reference, a ?q= search, a filter — would
    otherwise be a 500 for whoever sends it. Checked once here rather than in every view,
    form and filter. Form bodies are left to the forms (Django's and DRF's CharFields refuse
    NUL as a validation error)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info or any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            detail = "The address contains a NUL character."
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": detail, "code": "nul_character"}, status=400)
            return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
