"""The admin speaks Chinese in the Chinese UI: column headers, filters and model names of our apps."""

import re

import pytest
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.utils import translation

# knox names its model and fields without gettext; its columns in our admin carry our labels.
OUR_APPS = {"hotline", "routing", "telephony", "callback", "metrics"}
# Latin words that are names, not English text.
ALLOWED = {"ID", "OpenID", "Open", "HTTP", "IVR", "SMS", "Linkedid", "PBX", "AMI", "Excel", "TOTP", "URL", "API"}


def english_words(label: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z]{3,}", label) if w not in ALLOWED]


def column_labels():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in OUR_APPS:
            continue
        yield model._meta.label, "model", model._meta.verbose_name_plural
        for name in model_admin.list_display:
            if isinstance(name, str) and name != "__str__":
                yield model._meta.label, name, label_for_field(name, model, model_admin)
        for item in model_admin.list_filter:
            if isinstance(item, str):
                yield model._meta.label, item, label_for_field(item, model, model_admin)
            elif isinstance(item, type) and issubclass(item, admin.SimpleListFilter):
                yield model._meta.label, item.parameter_name, item.title


@pytest.mark.django_db
def test_admin_headers_are_chinese():
    with translation.override("zh-hans"):
        english = [(m, n, str(label)) for m, n, label in column_labels() if english_words(str(label))]
    assert english == []


def test_the_check_sees_english():
    assert english_words("requested at") == ["requested"]
    assert english_words("申请时间") == []
