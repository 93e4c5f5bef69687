from django import template

register = template.Library()


@register.filter
def mul(value, arg):
    return int(value) * int(arg)


@register.filter
def sub(value, arg):
    return int(value) - int(arg)


@register.filter
def last_day(series):
    return series[-1]["day"] if series else ""


@register.simple_tag
def chart_max(series):
    return max((int(p["count"]) for p in series), default=0)


@register.simple_tag
def bar_height(value, top, scale):
    """Bar length in chart units; a non-zero value always shows at least a sliver."""
    if not top:
        return 0
    height = round(int(value) * int(scale) / int(top))
    return max(height, 2) if value else 0
