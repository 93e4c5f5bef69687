"""Portal pages for Diagnostics, monitoring and display messages, mounted in the portal namespace."""

urlpatterns: list = []
