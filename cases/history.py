"""The case's audit trail: who changed what and when, across the case, its segment findings
and its patient, newest first (django-simple-history records, read by
``venousapp.history.history_entries``)."""

from django.utils.translation import gettext_lazy as _

from cases import thrombolysis
from cases.models import Case, Patient, SegmentFinding
from venousapp.history import HistoryEntry, history_entries, newest_first

# Labels of the coded items of list fields (a JSON list of codes has no model choices).
_ITEM_LABELS = {"thrombolysis_contraindications": thrombolysis.LABELS}


def case_history(case: Case) -> list[HistoryEntry]:
    entries = history_entries(
        case.history.select_related("history_user"),
        Case,
        lambda r: _("Case"),
        item_labels=_ITEM_LABELS,
    )
    entries += history_entries(
        SegmentFinding.history.filter(case_id=case.pk).select_related("history_user"),
        SegmentFinding,
        lambda r: _("Finding %(segment)s %(side)s") % {"segment": r.segment, "side": r.side},
    )
    entries += history_entries(
        case.patient.history.select_related("history_user"), Patient, lambda r: _("Patient")
    )
    return newest_first(entries)
