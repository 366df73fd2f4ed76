"""Wire formats for the statistics answer; figures from providers pass through unchanged."""
from datetime import date, datetime

from marshmallow import Schema, fields, post_dump, validate


class StatsQueryArgsSchema(Schema):
    from_ = fields.Date(data_key="from", load_default=None,
                        metadata={"description": "First local day (default: 29 days before `to`; at most five "
                                                 "years before it)"})
    to = fields.Date(load_default=None, metadata={"description": "Last local day, included (default: today)"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")),
                           metadata={"description": "csv: one `section,figure,value` row per figure"})


class ReportQueryArgsSchema(Schema):
    from_ = fields.Date(data_key="from", load_default=None)
    to = fields.Date(load_default=None)


Rate = fields.Float(allow_none=True, metadata={"description": "0..1; null when there is nothing to divide by"})


class GreenChannelStatsSchema(Schema):
    days_open = fields.Integer(required=True)
    capacity = fields.Integer(required=True, metadata={"description": "Places over the days open"})
    priority_capacity = fields.Integer(required=True)
    appointments = fields.Integer(required=True, metadata={"description": "Fleet appointments booked"})
    vehicles_booked = fields.Integer(required=True)
    priority_bookings = fields.Integer(required=True)
    priority_by_reason = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    utilisation = fields.Float(allow_none=True)


class FollowUpStatsSchema(Schema):
    sent = fields.Integer(required=True, metadata={"description": "Follow-ups sent in the period"})
    segments = fields.Integer(required=True, metadata={"description": "Billed SMS segments of those follow-ups"})
    replies = fields.Integer(required=True, metadata={"description": "Of those, answered at all"})
    reply_rate = fields.Float(allow_none=True)
    satisfied = fields.Integer(required=True)
    dissatisfied = fields.Integer(required=True)
    satisfaction_rate = fields.Float(allow_none=True, metadata={"description": "satisfied / (satisfied + "
                                                                              "dissatisfied)"})
    comments = fields.Integer(required=True)
    pending = fields.Integer(required=True)
    failed = fields.Integer(required=True)
    opted_out = fields.Integer(required=True)


class TextKindStatsSchema(Schema):
    sent = fields.Integer(required=True)
    segments = fields.Integer(required=True)


class TextStatsSchema(Schema):
    sent = fields.Integer(required=True, metadata={"description": "Texts of every kind sent in the period"})
    segments = fields.Integer(required=True, metadata={"description": "Billed SMS segments of those texts "
                                                                      "(70 characters fit one, 67 each of several)"})
    by_kind = fields.Dict(keys=fields.String(), values=fields.Nested(TextKindStatsSchema), required=True,
                          metadata={"description": "Per kind of text, e.g. follow_up, exam_reminder"})


class EscalationStatsSchema(Schema):
    opened = fields.Integer(required=True)
    resolved = fields.Integer(required=True)
    open_now = fields.Integer(required=True)
    overdue_now = fields.Integer(required=True)
    average_hours_to_resolve = fields.Float(allow_none=True)


class HandlingStatsSchema(Schema):
    cases_finished = fields.Integer(required=True, metadata={"description": "Fleet vehicles registered"})
    average_minutes = fields.Float(allow_none=True, metadata={"description": "From arrival (first inspection) "
                                                                           "to registration"})
    same_day = fields.Integer(required=True)
    same_day_share = fields.Float(allow_none=True)


class StatsWeekSchema(Schema):
    week = fields.Date(required=True, metadata={"description": "The Monday"})
    sent = fields.Integer(required=True)
    replies = fields.Integer(required=True)
    satisfied = fields.Integer(required=True)
    dissatisfied = fields.Integer(required=True)
    satisfaction_rate = fields.Float(allow_none=True)


class CaseFiguresSchema(Schema):
    cases = fields.Integer(required=True, metadata={"description": "Finished cases (each queues one follow-up)"})
    follow_ups_sent = fields.Integer(required=True)
    answered = fields.Integer(required=True, metadata={"description": "Follow-ups answered with a verdict"})
    satisfied = fields.Integer(required=True)
    dissatisfied = fields.Integer(required=True)
    satisfaction_rate = fields.Float(allow_none=True, metadata={"description": "satisfied / (satisfied + "
                                                                              "dissatisfied)"})
    escalations = fields.Integer(required=True, metadata={"description": "Opened in the period"})
    escalations_closed = fields.Integer(required=True, metadata={"description": "Of those, closed by now"})
    average_hours_to_close = fields.Float(allow_none=True, metadata={"description": "From the complaint to its "
                                                                                    "closing, on average"})


class OfficerStatsSchema(CaseFiguresSchema):
    username = fields.String(allow_none=True, metadata={"description": "null: cases with no recorded officer"})
    badge_number = fields.String(allow_none=True)
    display_name = fields.String(allow_none=True)
    role = fields.String(allow_none=True)


class MonthStatsSchema(Schema):
    month = fields.String(required=True, metadata={"description": "Local month", "example": "2026-11"})
    cases = fields.Integer(required=True)
    by_service = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                             metadata={"description": "Cases per service"})
    follow_ups_sent = fields.Integer(required=True)
    answered = fields.Integer(required=True)
    satisfied = fields.Integer(required=True)
    dissatisfied = fields.Integer(required=True)
    satisfaction_rate = fields.Float(allow_none=True)
    segments = fields.Integer(required=True, metadata={"description": "Billed SMS segments of the follow-ups"})
    escalations = fields.Integer(required=True)


class StatsChartPointSchema(Schema):
    label = fields.String(required=True)
    value = fields.Float(allow_none=True)


class StatsChartSchema(Schema):
    id = fields.String(required=True)
    title = fields.String(required=True)
    unit = fields.String(load_default="")
    points = fields.List(fields.Nested(StatsChartPointSchema), required=True)


class StatsSchema(Schema):
    """The core figures; packages add their own top-level sections (e.g. `driving_tests`, `tours`).

    A provider's section is passed through as the provider made it; the package names its shape in
    the OpenAPI document with `document_section`, so the answer still matches the documented schema.
    """

    office = fields.String(required=True)
    from_ = fields.Date(data_key="from", attribute="from", required=True)
    to = fields.Date(required=True)
    generated_at = fields.AwareDateTime(required=True)
    green_channel = fields.Nested(GreenChannelStatsSchema, required=True)
    follow_ups = fields.Nested(FollowUpStatsSchema, required=True)
    texts = fields.Nested(TextStatsSchema, required=True)
    escalations = fields.Nested(EscalationStatsSchema, required=True)
    handling = fields.Nested(HandlingStatsSchema, required=True)
    satisfaction_by_week = fields.List(fields.Nested(StatsWeekSchema), required=True)
    by_month = fields.List(fields.Nested(MonthStatsSchema), required=True,
                           metadata={"description": "Every month the period touches (periods up to five years)"})
    per_officer = fields.List(fields.Nested(OfficerStatsSchema), required=True,
                              metadata={"description": "Each officer of the office, for the office's reviews"})
    per_service = fields.Dict(keys=fields.String(), values=fields.Nested(CaseFiguresSchema), required=True,
                              metadata={"description": "green_channel, priority, tests, tours (and any other)"})
    charts = fields.List(fields.Nested(StatsChartSchema), required=True)
    unavailable = fields.List(fields.String(), required=True,
                              metadata={"description": "Providers that failed this time"})

    @post_dump(pass_original=True)
    def _provider_sections(self, data, original, **kwargs):
        known = {field.attribute or name for name, field in self.fields.items()}
        data.update({k: _plain(v) for k, v in original.items() if k not in known})
        return data


def _plain(value):
    """Provider values as JSON: dates in ISO 8601."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def document_section(api, key: str, schema) -> None:
    """Document a provider's top-level section `key` of the statistics answer with `schema`.

    Called by the package that registers the provider, after the statistics blueprint is registered
    (the `Stats` component exists then). The section is optional: it is missing when the provider
    failed (the provider is then named under `unavailable`).
    """
    converter = api.ma_plugin.converter
    stats = converter.resolve_nested_schema(StatsSchema)["$ref"].rsplit("/", 1)[-1]
    properties = api.spec.components.schemas[stats]["properties"]
    if key in properties:
        raise ValueError(f"the statistics section {key!r} is already documented")
    properties[key] = converter.resolve_nested_schema(schema)
