from django.http import JsonResponse

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
