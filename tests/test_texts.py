"""Every text a person receives: Chinese, signed once, within its budget (follow-ups: one segment).

The app is built first, so every feature's notifications.py has declared its templates; each is then
filled with its longest realistic values (`worst=`) and checked as the person would receive it.
"""
import re

import pytest

from vmo import create_app
from vmo.notify import texts

create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
TEMPLATES = list(texts.REGISTRY)
# Latin letters belong only to values the person needs as they are: plates, codes, VINs, licence classes.
# "TD" is the opt-out keyword every Chinese SMS gateway uses (回复TD退订).
ALLOWED_LATIN = {"TD"}
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _without_values(text: str, values: dict) -> str:
    for value in sorted((str(v) for v in values.values()), key=len, reverse=True):
        text = text.replace(value, "")
    return text


def test_the_registry_is_not_empty_and_keys_are_unique():
    assert TEMPLATES
    assert len({t.key for t in TEMPLATES}) == len(TEMPLATES)


@pytest.mark.parametrize("tpl", TEMPLATES, ids=lambda t: t.key)
def test_template_is_chinese_and_within_budget(tpl):
    sent = tpl.worst_case()
    assert "{" not in sent and "}" not in sent, sent
    assert sent.startswith(texts.DEFAULT_SIGNATURE) and sent.count("【") == 1, sent
    assert set(tpl.english_words()) <= ALLOWED_LATIN, (tpl.key, tpl.english_words())
    words = set(LATIN_WORD.findall(_without_values(sent, tpl.worst)))
    assert words <= ALLOWED_LATIN, (tpl.key, words)
    # The body is Chinese: mostly CJK characters, not a Latin sentence with a few Chinese words.
    body = _without_values(tpl.render(**tpl.worst), tpl.worst)
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in body) >= len(body) // 2, body
    if "follow_up" in tpl.key or "followup" in tpl.key:
        assert tpl.budget is not None and tpl.budget <= texts.FOLLOW_UP_BUDGET, tpl.key
    if tpl.budget is not None:
        assert len(sent) <= tpl.budget, f"{tpl.key}: {len(sent)} > {tpl.budget} characters: {sent}"


@pytest.mark.parametrize("tpl", TEMPLATES, ids=lambda t: t.key)
def test_every_placeholder_has_a_worst_value(tpl):
    placeholders = set(re.findall(r"\{(\w+)", tpl.text))
    assert placeholders <= set(tpl.worst), tpl.key  # a shared set of worst values may hold more


def test_segments():
    assert [texts.segments("字" * n) for n in (0, 1, 70, 71, 134, 135, 201, 202)] == [0, 1, 1, 2, 2, 3, 3, 4]


def test_the_outbox_signs_once_and_counts_segments(app, client, factory):
    from vmo.extensions import db
    from vmo.notify import services as notify
    from vmo.offices.services import get_office

    with app.app_context():
        office = get_office(factory.office).id
        notify.queue(office, "13800138000", "字" * 63, kind="t", key="t:1")
        notify.queue(office, "13800138001", "【重庆市公安局交通巡逻警察总队南川区支队车辆管理所】您好", kind="t", key="t:2")
        notify.queue_many([{"office_id": office, "phone": "13800138002", "body": "字" * 64, "kind": "t",
                            "key": "t:3"}])
        db.session.commit()
    listed = client.get("/api/v1/sms/outbox", headers=factory.headers(factory.staff()),
                        query_string={"kind": "t"}).get_json()
    assert [(m["key"], m["body"][:9], m["length"], m["segments"]) for m in listed] == [
        ("t:3", "【南川车管所】字字", 71, 2), ("t:2", "【南川车管所】您好", 9, 1), ("t:1", "【南川车管所】字字", 70, 1)]


class TestSignatureSetting:
    @pytest.fixture
    def app_config(self):
        return {"SMS_SIGNATURE": "【南川交巡警】"}

    def test_the_configured_signature_is_used(self, app, client, factory):
        from vmo.extensions import db
        from vmo.notify import services as notify
        from vmo.offices.services import get_office

        with app.app_context():
            notify.queue(get_office(factory.office).id, "13800138000", "您好", kind="t", key="t:1")
            db.session.commit()
        [message] = client.get("/api/v1/sms/outbox", headers=factory.headers(factory.staff())).get_json()
        assert (message["body"], message["length"], message["segments"]) == ("【南川交巡警】您好", 9, 1)


# Each feature that sends texts declares them as templates (module prefixes of the declaring notifications.py).
FEATURES = {
    "follow-up": ("vmo.followup",),
    "fleet": ("vmo.fleet", "vmo.greenchannel"),
    "priority": ("vmo.priority",),
    "sign-up": ("vmo.accounts",),
    "exams": ("schedules.exams",),
    "tours": ("schedules.tours", "mobile_api"),
    "reminders": ("schedules.exams", "schedules.tours"),  # the day-before texts, declared by each feature
}


@pytest.mark.parametrize("feature", FEATURES)
def test_every_feature_that_sends_texts_declares_templates(feature):
    declared = [t.key for t in TEMPLATES if t.module.startswith(FEATURES[feature]) and
                (feature != "reminders" or "remind" in t.key)]
    assert declared, f"{feature}: no template registered (declare its texts in its notifications.py)"


def test_modules_that_queue_texts_take_them_from_templates():
    """No body built by hand: a module that queues a text imports a notifications module."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent
    offenders = []
    for path in [*root.glob("vmo/**/*.py"), *root.glob("schedules/**/*.py"), *root.glob("mobile_api/**/*.py")]:
        if "migrations" in path.parts or path.parts[-2:] == ("notify", "services.py"):
            continue
        source = path.read_text(encoding="utf-8")
        if re.search(r"\bnotify\.queue(_many)?\(", source) and "notifications" not in source:
            offenders.append(str(path.relative_to(root)))
    assert offenders == []
