"""Log-in and permissions from the database, as Django's ``ModelBackend``, with the frame
of every request made cheaper: the user is read with her centre (every page shows it and
scopes its reads by it) and the data's generation (the number the request works from,
``venousapp.generation.of_request``), and her permissions, her own and her roles', in one
query instead of two, written out in SQL (building it with the ORM cost seven times what the
database takes to answer it). A process keeps the permissions it read for a user only while
the data's generation has not moved (``venousapp.generation``): any committed change, a role
or a permission taken away included, makes the next request read them again. Inside a
transaction they are always read (its own changes are not counted before it commits)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from venousapp import generation
from venousapp.accounts.models import User
from venousapp.sql import quoted


class UserBackend(ModelBackend):
    def get_user(self, user_id: Any) -> User | None:
        users = User._default_manager.select_related("centre").filter(pk=user_id)
        user = generation.annotated(users, "data_generation").first()
        if user is not None:
            generation.seen(getattr(user, "data_generation", None))
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            number = generation.of_request()
            kept = _kept.get(user_obj.pk)
            if number is not None and kept is not None and kept[0] == number:
                user_obj._perm_cache = set(kept[1])
            else:
                user_obj._perm_cache = _read(user_obj)
                if number is not None:
                    if len(_kept) >= KEPT_USERS:
                        _kept.clear()
                    _kept[user_obj.pk] = (number, frozenset(user_obj._perm_cache))
        return user_obj._perm_cache


def _read(user: Any) -> set[str]:
    with connection.cursor() as cursor:
        if user.is_superuser:
            cursor.execute(ALL_PERMISSIONS)
        else:
            cursor.execute(USER_PERMISSIONS, [user.pk, user.pk])
        return {f"{app}.{codename}" for app, codename in cursor.fetchall()}


# {user id: (generation, her permissions)}: what this process read, while it holds.
_kept: dict[int, tuple[int, frozenset[str]]] = {}
KEPT_USERS = 10_000


_OWN = User.user_permissions.through
_ROLES = User.groups.through
_ROLE_PERMISSIONS = Group.permissions.through
ALL_PERMISSIONS = (
    f"SELECT ct.app_label, p.codename FROM {quoted(Permission)} p"  # noqa: S608 (names from the models, values as parameters)
    f" JOIN {quoted(ContentType)} ct ON ct.id = p.{quoted(Permission, 'content_type')}"
)
# Her own permissions and her roles': what ModelBackend reads in two queries.
USER_PERMISSIONS = (
    f"{ALL_PERMISSIONS} WHERE p.id IN ("  # noqa: S608 (names from the models, values as parameters)
    f"SELECT {quoted(_OWN, 'permission')} FROM {quoted(_OWN)}"
    f" WHERE {quoted(_OWN, 'user')} = %s"
    f" UNION SELECT rp.{quoted(_ROLE_PERMISSIONS, 'permission')}"
    f" FROM {quoted(_ROLE_PERMISSIONS)} rp JOIN {quoted(_ROLES)} r"
    f" ON r.{quoted(_ROLES, 'group')} = rp.{quoted(_ROLE_PERMISSIONS, 'group')}"
    f" WHERE r.{quoted(_ROLES, 'user')} = %s)"
)
