"""The cards a CDS Hooks call answered move from a row each (``IssuedCard``) into the call's
own ``cards`` ({uuid: {"rule_id", "value", "indicator"}}): recording a call is one row, not
one per card. The uuids of a call's cards now share their first half, ``card_prefix``, which
an index finds; the calls migrated here answered cards with unrelated uuids and have no prefix
(a partial index finds those until they are pruned). Self-contained: the historical models
only.
"""

from django.db import migrations, models

BATCH = 1000


def cards_into_calls(apps, schema_editor):
    HookCall = apps.get_model("interop", "HookCall")
    IssuedCard = apps.get_model("interop", "IssuedCard")
    calls = HookCall.objects.order_by("pk")
    last = 0
    while batch := list(calls.filter(pk__gt=last)[:BATCH]):
        last = batch[-1].pk
        by_call: dict[int, dict[str, dict[str, str]]] = {call.pk: {} for call in batch}
        for card in IssuedCard.objects.filter(call_id__in=by_call).iterator():
            by_call[card.call_id][str(card.uuid)] = {
                "rule_id": card.rule_id,
                "value": card.value,
                "indicator": card.indicator,
            }
        for call in batch:
            call.cards = by_call[call.pk]
        HookCall.objects.bulk_update(batch, ["cards"])


def cards_into_rows(apps, schema_editor):
    HookCall = apps.get_model("interop", "HookCall")
    IssuedCard = apps.get_model("interop", "IssuedCard")
    for call in HookCall.objects.exclude(cards={}).iterator():
        IssuedCard.objects.bulk_create(
            IssuedCard(call=call, uuid=uuid, **card) for uuid, card in call.cards.items()
        )


class Migration(migrations.Migration):
    dependencies = [
        ("interop", "0002_roles"),
    ]

    operations = [
        # The rows' reverse name is the new field's: out of its way while both exist.
        migrations.AlterField(
            model_name="issuedcard",
            name="call",
            field=models.ForeignKey(
                on_delete=models.deletion.CASCADE, related_name="issued", to="interop.hookcall"
            ),
        ),
        migrations.AddField(
            model_name="hookcall",
            name="cards",
            field=models.JSONField(blank=True, default=dict, verbose_name="cards answered"),
        ),
        migrations.AddField(
            model_name="hookcall",
            name="card_prefix",
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(cards_into_calls, cards_into_rows),
        migrations.DeleteModel(name="IssuedCard"),
        migrations.AddIndex(
            model_name="hookcall",
            index=models.Index(fields=["card_prefix"], name="hookcall_card_prefix"),
        ),
        migrations.AddIndex(
            model_name="hookcall",
            index=models.Index(
                condition=models.Q(("card_prefix__isnull", True), models.Q(("cards", {}), _negated=True)),
                fields=["client"],
                name="hookcall_cards_before_prefix",
            ),
        ),
    ]
