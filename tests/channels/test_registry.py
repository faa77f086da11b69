"""The adapters are the one description of each provider: the registry refuses an adapter that
leaves out its label, slug or a capability, and every lookup by provider (webhook slugs, labels,
the panel's forms and hints, the API's provider list) comes from the adapter classes."""

from __future__ import annotations

import inspect
import re
import typing
import uuid
from pathlib import Path
from typing import ClassVar

import pytest

from db.models import Provider
from runtime.api.routes.channels import ChannelCreate
from runtime.channels import registry, service
from runtime.channels.base import ChannelAdapter, CredentialSpec
from runtime.channels.cloud_api import CloudApiAdapter
from runtime.channels.twilio import TwilioAdapter
from runtime.panel import channels as panel
from runtime.panel import dashboard

ROOT = Path(__file__).resolve().parents[2]
DECLARED = [n for n, tp in typing.get_type_hints(ChannelAdapter).items() if typing.get_origin(tp) is ClassVar]


def _copy(source: type, *, drop: str | None = None, **changes) -> type:
    """A new adapter class with `source`'s attributes and methods, one left out or changed."""
    attrs = {k: v for k, v in vars(source).items() if k not in ("__dict__", "__weakref__", drop)}
    return type(f"{source.__name__}Copy", (), {**attrs, **changes})


def test_every_registered_adapter_sets_every_declared_attribute():
    assert {"label", "slug", "has_service_window", "sends_media_bytes", "credential_specs"} <= set(DECLARED)
    assert registry.ADAPTERS
    for cls in registry.ADAPTERS:
        registry.check_adapter(cls)
        for name in DECLARED:  # on the class itself, not inherited from somewhere by accident
            assert name in vars(cls), f"{cls.__name__}.{name}"


@pytest.mark.parametrize("name", DECLARED)
def test_an_adapter_without_any_declared_attribute_is_refused(name):
    with pytest.raises(registry.IncompleteAdapter, match=rf"\b{name} is not set"):
        registry.index_adapters([_copy(CloudApiAdapter, drop=name)])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"label": None}, "label is not a"),
        ({"label": "  "}, "label is empty"),
        ({"setup_hint": ""}, "setup_hint is empty"),
        ({"has_service_window": "yes"}, "has_service_window is not a"),
        ({"webhook_ack": "<Response/>"}, "webhook_ack is not a"),
        ({"slug": "Cloud API"}, "not a lowercase URL segment"),
        ({"credential_fields": ("phone_number_id",)}, "credential_fields are not the keys"),
        ({"api_credentials": ("password",)}, "api_credentials must be among"),
        ({"webhook_secret_in_url": True}, "needs a webhook_secret credential"),
        ({"send": None}, r"method send\(\) is missing"),
    ],
)
def test_an_adapter_with_a_wrong_attribute_is_refused(changes, message):
    with pytest.raises(registry.IncompleteAdapter, match=message):
        registry.check_adapter(_copy(CloudApiAdapter, **changes))


def test_a_provider_or_slug_or_credential_key_cannot_mean_two_things():
    with pytest.raises(registry.IncompleteAdapter, match="is taken"):
        registry.index_adapters([CloudApiAdapter, _copy(TwilioAdapter, slug=CloudApiAdapter.slug)])
    with pytest.raises(registry.IncompleteAdapter, match="is taken"):
        registry.index_adapters([CloudApiAdapter, _copy(TwilioAdapter, provider=Provider.cloud_api)])
    other = (CredentialSpec("account_sid", "Outra coisa", True), *TwilioAdapter.credential_specs[1:])
    with pytest.raises(registry.IncompleteAdapter, match="'account_sid' differs"):
        registry.index_adapters(
            [TwilioAdapter, _copy(TwilioAdapter, provider=Provider.widget, slug="widget", credential_specs=other)]
        )


def test_a_new_adapter_is_indexed_from_its_own_attributes():
    widget = _copy(TwilioAdapter, provider=Provider.widget, slug="site", label="Widget do site")
    index = registry.index_adapters([CloudApiAdapter, widget])
    assert list(index) == [Provider.cloud_api, Provider.widget] and index[Provider.widget] is widget


def test_the_registry_and_its_readers_derive_every_lookup_from_the_adapters():
    adapters = registry.ADAPTERS
    assert tuple(cls.provider for cls in adapters) == registry.PROVIDERS
    assert {cls.slug: cls.provider for cls in adapters} == registry.SLUG_TO_PROVIDER
    assert {cls.provider.value: cls.label for cls in adapters} == registry.PROVIDER_LABELS
    channel_id = uuid.uuid4()
    for cls in adapters:
        assert registry.adapter_class(cls.provider) is cls
        assert registry.webhook_url(cls.provider, channel_id).endswith(f"/webhooks/{cls.slug}/{channel_id}")
        assert registry.provider_label(cls.provider) == cls.label
    assert registry.provider_label(Provider.widget) == "widget"  # no adapter yet: the raw value, no label table

    # The panel's forms, hints, labels and provider choice; the channels service; the REST API.
    assert [(f["provider"], f["label"], f["description"]) for f in panel.PROVIDER_FORMS] == [
        (cls.provider.value, cls.label, cls.description) for cls in adapters
    ]
    assert [f["api_base_url_required"] for f in panel.PROVIDER_FORMS] == [cls.self_hosted for cls in adapters]
    assert {cls.provider.value: cls.setup_hint for cls in adapters} == panel.SETUP_HINTS
    assert {
        s.key: (s.label, s.secret, s.help) for cls in adapters for s in cls.credential_specs
    } == panel.CREDENTIAL_LABELS
    assert all(cls.label in panel.CHOOSE_PROVIDER for cls in adapters)
    assert {cls.provider for cls in adapters if cls.webhook_secret_in_url} == service.URL_SECRET_PROVIDERS
    schema = ChannelCreate.model_json_schema()["properties"]["provider"]
    assert schema["enum"] == [cls.provider.value for cls in adapters]
    assert not hasattr(dashboard, "PROVIDER_LABELS")


# `Provider.zapi`, a dict key "twilio": ..., or `== "evolution"`: a table or branch keyed by provider.
_PROVIDER_KEYED = re.compile(
    r"Provider\.(?:{p})\b|[\"'](?:{p})[\"']\s*:|[=!]=\s*[\"'](?:{p})[\"']|[\"'](?:{p})[\"']\s*[=!]=".format(
        p="|".join(p.value for p in registry.PROVIDERS)
    )
)


def test_no_module_but_the_adapter_itself_keys_anything_by_provider():
    """A new channel must not need edits to label tables or provider branches elsewhere."""
    own = {Path(inspect.getsourcefile(cls)).resolve(): f"Provider.{cls.provider.name}" for cls in registry.ADAPTERS}
    found = []
    for path in sorted([*(ROOT / "runtime").rglob("*.py"), *(ROOT / "webapp").rglob("*.py")]):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in _PROVIDER_KEYED.finditer(line):
                if own.get(path.resolve()) == match.group(0) and "ClassVar[Provider]" in line:
                    continue  # the adapter naming its own provider
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == []
