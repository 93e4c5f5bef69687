"""Portal pages for Device model (OCPP 2.x), mounted in the portal namespace."""

urlpatterns: list = []
