from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "venousapp.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from venousapp.accounts import tasks  # noqa: F401 (the services send them by name)
        from venousapp.accounts.roles import sync_roles

        post_migrate.connect(sync_roles, sender=self, dispatch_uid="accounts.sync_roles")
