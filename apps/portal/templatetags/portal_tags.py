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


@register.filter
def split_pairs(value):
    """ "a:A,b:B" → [("a", "A"), ("b", "B")] for small inline choice lists."""
    return [tuple(item.split(":", 1)) for item in value.split(",")]


STATUS_COLOURS = {
    "Available": "green",
    "Charging": "blue",
    "Occupied": "blue",
    "Preparing": "blue",
    "SuspendedEV": "blue",
    "SuspendedEVSE": "blue",
    "Finishing": "blue",
    "Reserved": "amber",
    "Unavailable": "grey",
    "Faulted": "red",
}


@register.filter
def status_colour(status):
    return STATUS_COLOURS.get(status, "grey")


@register.filter
def split_commands(value):
    """ "Action|payload|label;…" → [(action, payload, label), …] for the one-click command buttons."""
    return [tuple(item.split("|", 2)) for item in value.split(";")]


@register.filter
def kwh(wh):
    return f"{int(wh) / 1000:.2f}" if wh is not None else "—"


@register.filter
def last_energy(series, meter_start):
    readings = [p["energy_wh"] for p in series if "energy_wh" in p]
    return (readings[-1] - int(meter_start)) if readings else 0


@register.filter
def last_timestamp(series):
    return series[-1]["timestamp"] if series else None


@register.simple_tag
def series_max(series, key):
    values = [p[key] for p in series if key in p]
    return f"{max(values):.0f}" if values else "—"


@register.simple_tag
def polyline(series, key, width, height):
    """SVG polyline points for one measurand, time on x, value scaled to the box on y."""
    points = [(p["timestamp"].timestamp(), p[key]) for p in series if key in p]
    if not points:
        return ""
    t0, t1 = points[0][0], points[-1][0]
    top = max(v for _, v in points) or 1
    span = (t1 - t0) or 1
    margin = 5
    return " ".join(
        f"{(t - t0) / span * (width - 2 * margin) + margin:.1f},{height - margin - v / top * (height - 2 * margin):.1f}"
        for t, v in points
    )


@register.filter
def split_list(value):
    return [item for item in value.split(",") if item]


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)


@register.filter
def as_json(value):
    """A payload as the charger sent it (JSON), not Python's repr."""
    import json

    return json.dumps(value, ensure_ascii=False, default=str)


@register.filter
def duration(seconds):
    """12345 → "3 h 25 min"; under an hour "25 min 45 s"."""
    seconds = int(seconds or 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"
