from django.apps import AppConfig


class GuidelinesConfig(AppConfig):
    name = "guidelines"
    verbose_name = "Guidelines"

    def ready(self) -> None:
        # Registers the rule-set system checks (guidelines.E001...) and connects the
        # per-request rule-set cache to the request signals.
        from guidelines import checks, ruleset  # noqa: F401
