"""Portal pages for Certificates, mounted in the portal namespace."""

urlpatterns: list = []
