def organization(request):
    org = getattr(request, "tenant", None)
    return {
        "organization": org,
        "brand_name": org.name if org is not None and not org.is_public else "EVzone",
        "brand_colour": getattr(org, "primary_colour", None) or "#0a7d5a",
        "brand_logo": org.logo.url if org is not None and org.logo else None,
        "is_platform_site": org is None or org.is_public,
    }
