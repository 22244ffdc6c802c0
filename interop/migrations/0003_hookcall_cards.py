"""The cards a CDS Hooks call answered move from a row each (``IssuedCard``) into the call's
own ``cards`` ({uuid: {"rule_id", "value", "indicator"}}): recording a call is one row, not
one per card. On PostgreSQL a GIN index on ``cards`` finds the call that answered a card
(feedback names the card only); other databases (``make run``'s SQLite) have no such index.
Self-contained: the historical models only.
"""

from django.db import migrations, models

BATCH = 1000
GIN = "interop_hookcall_cards_gin"


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


def gin_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX {GIN} ON interop_hookcall USING gin (cards)")


def gin_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {GIN}")


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
        migrations.RunPython(cards_into_calls, cards_into_rows),
        migrations.RunPython(gin_create, gin_drop),
        migrations.DeleteModel(name="IssuedCard"),
    ]
