"""Rendering the figures: a flat CSV, and a self-contained HTML page with inline SVG charts."""
import io
from datetime import date, datetime

from jinja2 import Environment

from vmo import csvout

_env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)


def flatten(data, prefix: str = "") -> list[tuple[str, str, object]]:
    """(section, figure, value) rows; nested sections become dotted names, lists are numbered by label."""
    rows = []
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            rows.extend(flatten(value, name))
        elif isinstance(value, list):
            if all(isinstance(v, dict) for v in value):
                for i, item in enumerate(value):
                    label = (item.get("week") or item.get("month") or item.get("username") or item.get("id")
                             or item.get("label") or i)
                    rows.extend(flatten({k: v for k, v in item.items() if k != "points"}, f"{name}[{label}]"))
                    for point in item.get("points", []):
                        rows.append((f"{name}[{label}]", str(point.get("label")), point.get("value")))
            else:
                rows.append((prefix or "", str(key), ";".join(str(v) for v in value)))
        else:
            section, _, figure = name.rpartition(".")
            rows.append((section, figure, value))
    return rows


def to_csv(data: dict) -> str:
    out = io.StringIO()
    writer = csvout.writer(out)
    writer.writerow(["section", "figure", "value"])
    for section, figure, value in flatten(data):
        if isinstance(value, (date, datetime)):
            value = value.isoformat()
        writer.writerow([section, figure, "" if value is None else value])
    return out.getvalue()


def bar_chart(points: list[dict], unit: str = "", width: int = 640, bar_height: int = 26) -> str:
    """A horizontal bar chart as an SVG string (scales to the screen width; no script, no assets)."""
    label_w, value_w = 110, 80
    values = [p.get("value") for p in points]
    top = max([v for v in values if v is not None] or [0]) or 1
    height = max(len(points), 1) * bar_height + 8
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" xmlns="http://www.w3.org/2000/svg">']
    if not points:
        parts.append(f'<text x="4" y="20" class="muted">—</text>')
    for i, point in enumerate(points):
        y = 4 + i * bar_height
        value = point.get("value")
        span = width - label_w - value_w
        length = 0 if value is None else max(span * value / top, 1)
        shown = "—" if value is None else f"{value:g}{unit}"
        parts.append(f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end">{_esc(point.get("label"))}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{length:.1f}" height="{bar_height - 8}" rx="3"/>')
        parts.append(f'<text x="{label_w + length + 6:.1f}" y="{y + 17}">{_esc(shown)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _esc(value) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


_PAGE = _env.from_string("""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ office_name }} 服务统计 {{ data["from"] }} – {{ data["to"] }}</title>
<style>
  body { font: 16px/1.5 system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; margin: 0; color: #1d2733; background: #f4f6f8; }
  header { background: #0b4f8a; color: #fff; padding: 16px 20px; }
  header h1 { font-size: 1.3rem; margin: 0; }
  main { padding: 16px; max-width: 1100px; margin: 0 auto; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; }
  .card { background: #fff; border-radius: 10px; padding: 12px 14px; box-shadow: 0 1px 2px #0002; }
  .card .n { font-size: 1.7rem; font-weight: 600; }
  .card .l { color: #5b6875; font-size: .9rem; }
  .warn .n { color: #b3261e; }
  section { margin-top: 20px; }
  h2 { font-size: 1.1rem; margin: 0 0 8px; }
  svg text { font-size: 13px; fill: #1d2733; }
  svg rect { fill: #1a7f5a; }
  .muted { color: #5b6875; fill: #5b6875; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  td, th { padding: 6px 8px; border-bottom: 1px solid #e3e7eb; text-align: left; }
</style>
</head>
<body>
<header><h1>{{ office_name }} · 服务统计</h1><div>{{ data["from"] }} – {{ data["to"] }}</div></header>
<main>
<div class="grid">
{% for card in cards %}
  <div class="card{% if card.warn %} warn{% endif %}"><div class="n">{{ card.value }}</div><div class="l">{{ card.label }}</div></div>
{% endfor %}
</div>
{% for chart in charts %}
<section class="card"><h2>{{ chart.title }}</h2>{{ chart.svg }}</section>
{% endfor %}
<section class="card"><h2>各业务</h2>
<table><tr><th>业务</th>{% for h in case_heads %}<th>{{ h }}</th>{% endfor %}</tr>
{% for name, row in services %}<tr><td>{{ name }}</td>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</table></section>
<section class="card"><h2>各民警</h2>
<table><tr><th>民警</th><th>警号</th>{% for h in case_heads %}<th>{{ h }}</th>{% endfor %}</tr>
{% for who, badge, row in officers %}<tr><td>{{ who }}</td><td>{{ badge }}</td>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</table></section>
<section class="card"><h2>按月</h2>
<table><tr><th>月份</th><th>办结</th><th>回访发送</th><th>满意</th><th>不满意</th><th>满意率</th><th>短信条数（计费）</th><th>投诉</th></tr>
{% for m in months %}<tr><td>{{ m.month }}</td><td>{{ m.cases }}</td><td>{{ m.follow_ups_sent }}</td><td>{{ m.satisfied }}</td><td>{{ m.dissatisfied }}</td><td>{{ pct(m.satisfaction_rate) }}</td><td>{{ m.segments }}</td><td>{{ m.escalations }}</td></tr>{% endfor %}
</table></section>
{% if extra %}
<section class="card"><h2>其他数据</h2>
<table>{% for section, figure, value in extra %}<tr><td>{{ section }}</td><td>{{ figure }}</td><td>{{ value }}</td></tr>{% endfor %}</table>
</section>
{% endif %}
<p class="muted">生成于 {{ data["generated_at"] }}{% if data["unavailable"] %} · 暂缺：{{ data["unavailable"]|join("、") }}{% endif %}</p>
</main>
</body>
</html>
""")


def _pct(rate) -> str:
    return "—" if rate is None else f"{rate * 100:.2f}%"


def render_html(data: dict, office_name: str, core_keys: set[str]) -> str:
    from markupsafe import Markup

    f, g, e, h = data["follow_ups"], data["green_channel"], data["escalations"], data["handling"]
    t = data.get("texts", {})
    cards = [
        {"label": "绿色通道预约", "value": g["appointments"]},
        {"label": "预约车辆", "value": g["vehicles_booked"]},
        {"label": "优先预约", "value": g["priority_bookings"]},
        {"label": "回访短信", "value": f["sent"]},
        {"label": "短信计费条数", "value": t.get("segments", 0)},
        {"label": "回复", "value": f["replies"]},
        {"label": "回复率", "value": _pct(f["reply_rate"])},
        {"label": "满意率", "value": _pct(f["satisfaction_rate"])},
        {"label": "未办结投诉", "value": e["open_now"], "warn": e["open_now"] > 0},
        {"label": "超时投诉", "value": e["overdue_now"], "warn": e["overdue_now"] > 0},
        {"label": "平均办理（分钟）", "value": "—" if h["average_minutes"] is None else h["average_minutes"]},
        {"label": "当日办结", "value": _pct(h["same_day_share"])},
    ]
    charts = [{"title": c.get("title", c.get("id", "")),
               "svg": Markup(bar_chart(c.get("points", []), c.get("unit", "")))} for c in data.get("charts", [])]
    extra = [row for key, value in data.items() if key not in core_keys
             for row in flatten({key: value}) if not isinstance(value, list) or key != "charts"]
    services = [(SERVICE_NAMES.get(name, name), _case_row(row)) for name, row in data.get("per_service", {}).items()]
    officers = [(o["display_name"] or o["username"] or "（未记录）", o["badge_number"] or "—", _case_row(o))
                for o in data.get("per_officer", [])]
    return _PAGE.render(data=data, office_name=office_name, cards=cards, charts=charts, extra=extra,
                        case_heads=CASE_HEADS, services=services, officers=officers,
                        months=data.get("by_month", []), pct=_pct)


SERVICE_NAMES = {"green_channel": "绿色通道", "priority": "优先办理", "tests": "驾驶人考试", "tours": "流动车管所",
                 "home_visits": "上门办理"}
CASE_HEADS = ("办结", "回访发送", "已答复", "满意", "不满意", "满意率", "投诉", "已办结投诉", "平均办结（小时）")


def _case_row(row: dict) -> list:
    hours = row["average_hours_to_close"]
    return [row["cases"], row["follow_ups_sent"], row["answered"], row["satisfied"], row["dissatisfied"],
            _pct(row["satisfaction_rate"]), row["escalations"], row["escalations_closed"],
            "—" if hours is None else hours]
