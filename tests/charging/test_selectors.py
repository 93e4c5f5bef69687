"""Reads on the OCPP hot path."""

from datetime import UTC, datetime

from apps.charging.models import IdToken
from apps.charging.selectors import id_token_find, id_token_info
from apps.charging.services import id_token_create


def test_a_card_is_found_case_insensitively_with_every_field(in_tenant_a, make_user):
    owner = make_user(in_tenant_a)
    token = id_token_create(
        id_token="Card-0042",
        status="Blocked",
        group_id="FLEET-1",
        expires_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        owner=owner,
        label="van 7",
    )
    id_token_create(id_token="CARD-0043")
    for tag in ("card-0042", "CARD-0042", "Card-0042"):
        found = id_token_find(id_tag=tag)
        assert found == token
        assert [getattr(found, f.attname) for f in IdToken._meta.concrete_fields] == [
            getattr(token, f.attname) for f in IdToken._meta.concrete_fields
        ]
    assert id_token_find(id_tag="CARD-004") is None
    assert id_token_find(id_tag="") is None
    # A loaded instance, not a new one: saving it updates the card.
    found.label = "van 8"
    found.save()
    assert IdToken.objects.get(pk=token.pk).label == "van 8" and IdToken.objects.count() == 2
    assert id_token_info(id_tag="card-0042").status == "Blocked"


def test_cards_of_another_organisation_are_not_found(in_tenant_a, tenant_b):
    from django.db import connection

    id_token_create(id_token="ONLY-IN-A")
    connection.set_tenant(tenant_b)
    assert id_token_find(id_tag="only-in-a") is None
