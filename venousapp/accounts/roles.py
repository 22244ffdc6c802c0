"""Which permissions each role holds. :func:`sync_roles` grants them after every ``migrate``
and ``flush`` (post_migrate), so roles exist on every database without fixtures; an app that
adds models names their permissions here. Migrations do not call this module: one that did
would do whatever the module says at the time it runs, not what it did when it was written."""

from typing import Any

# Planning: clinicians write plans, ticks and procedure records; guideline admins keep the
# device catalogue and the checklist templates (retired, never deleted); everyone reads.
_PLANNING_REFERENCE = ("device", "devicesize", "checklisttemplate", "checklisttemplateitem")
_PLANNING_CLINICAL = (
    "procedureplan",
    "accesssite",
    "plannedstent",
    "checklistitem",
    "procedurerecord",
    "implanteddevice",
)
_PLANNING_VIEW = [f"view_{model}" for model in _PLANNING_REFERENCE + _PLANNING_CLINICAL]

# Follow-up: nurses run the worklist (visits, contact attempts, results); clinicians read,
# acknowledge and decide escalations and record re-interventions; guideline admins keep the
# surveillance protocols (revised as new versions, never deleted). Clinicians and guideline
# admins read (and start the computation of) the centre's patency analytics.
_FOLLOWUP_PROTOCOL = ("protocol", "protocolvisit")
_FOLLOWUP_PATENCY = ["view_patencyreport", "add_patencyreport"]
_FOLLOWUP_VIEW = [
    f"view_{model}"
    for model in (
        "schedule",
        "visit",
        "contactattempt",
        "visitresult",
        "resultsegment",
        "escalation",
        "reintervention",
        *_FOLLOWUP_PROTOCOL,
    )
]
_FOLLOWUP_NURSE = ("visit", "contactattempt", "visitresult", "resultsegment")

ROLE_PERMISSIONS: dict[str, dict[str, list[str]]] = {
    "clinician": {
        "cases": [
            "view_patient",
            "add_patient",
            "change_patient",
            "view_case",
            "add_case",
            "change_case",
        ],
        "guidelines": [
            "view_rule",
            "view_decision",
            "add_decision",
            "view_cardfeedback",
            "add_cardfeedback",
        ],
        "planning": _PLANNING_VIEW
        + [f"{verb}_{model}" for model in _PLANNING_CLINICAL for verb in ("add", "change")]
        + [
            "delete_checklistitem",
            "delete_accesssite",
            "delete_plannedstent",
            "delete_implanteddevice",
        ],
        "followup": [
            *_FOLLOWUP_VIEW,
            "acknowledge_escalation",
            "decide_escalation",
            "add_reintervention",
            "change_reintervention",
            *_FOLLOWUP_PATENCY,
        ],
    },
    "nurse": {
        "cases": ["view_patient", "view_case"],
        "guidelines": ["view_rule", "view_decision"],
        "planning": _PLANNING_VIEW,
        "followup": [
            *_FOLLOWUP_VIEW,
            *(f"{verb}_{model}" for model in _FOLLOWUP_NURSE for verb in ("add", "change")),
        ],
    },
    "guideline_admin": {
        "cases": ["view_patient", "view_case"],
        "guidelines": [
            "view_guidelinesource",
            "add_guidelinesource",
            "change_guidelinesource",
            "view_rule",
            "add_rule",
            "change_rule",
            "view_ruleversion",
            "add_ruleversion",
            "change_ruleversion",
            "approve_ruleversion",
            "view_ruletestcase",
            "add_ruletestcase",
            "change_ruletestcase",
            "delete_ruletestcase",
            "view_decision",
        ],
        "planning": _PLANNING_VIEW
        + [f"{verb}_{model}" for model in _PLANNING_REFERENCE for verb in ("add", "change")],
        "followup": [
            f"{verb}_{model}" for model in _FOLLOWUP_PROTOCOL for verb in ("view", "add", "change")
        ]
        + _FOLLOWUP_PATENCY,
    },
}


def grant(apps: Any, app_label: str, role_permissions: dict[str, list[str]]) -> None:
    """Create the role groups if needed and give them ``app_label`` permissions by codename."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after `migrate` finishes; create them now so the
    # groups can hold them within the same migration run.
    app_config = apps.get_app_config(app_label)
    stub = not getattr(app_config, "models_module", None)  # historical (migration) config
    if stub:
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    if stub:
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, codenames in role_permissions.items():
        group, _ = group_model.objects.get_or_create(name=role)
        perms = permission_model.objects.filter(
            content_type__app_label=app_label, codename__in=codenames
        )
        missing = set(codenames) - set(perms.values_list("codename", flat=True))
        # Migrated back to an older migration, the state holds the models of its time: the
        # default permissions of a model added later are granted once a migrate adds it.
        missing -= {c for c in missing if _default_of_model_not_in(c, app_config)}
        if missing:
            raise RuntimeError(f"Unknown {app_label} permissions: {sorted(missing)}")
        group.permissions.add(*perms)


def _default_of_model_not_in(codename: str, app_config: Any) -> bool:
    action, _, model = codename.partition("_")
    models = {m._meta.model_name for m in app_config.get_models()}
    return action in ("add", "change", "delete", "view") and model not in models


def sync_roles(sender: Any = None, apps: Any = None, **kwargs: Any) -> None:
    """post_migrate handler: re-grant every role after any migrate or flush.

    The role migrations create the groups; a database flush (as between transactional
    tests) empties them again, and Django re-emits post_migrate after a flush.
    """
    from django.apps import apps as global_apps

    apps = apps or global_apps
    labels = {label for perms in ROLE_PERMISSIONS.values() for label in perms}
    for app_label in sorted(labels):
        try:
            apps.get_app_config(app_label)
        except LookupError:
            continue
        grant_app(apps, app_label)


def grant_app(apps: Any, app_label: str) -> None:
    grant(
        apps,
        app_label,
        {role: perms[app_label] for role, perms in ROLE_PERMISSIONS.items() if app_label in perms},
    )
