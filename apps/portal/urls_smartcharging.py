"""Portal pages for Smart charging and firmware, mounted in the portal namespace."""

urlpatterns: list = []
