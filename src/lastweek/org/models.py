"""Agencies, their unit trees and their employees."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.expressions import RawSQL


class Agency(models.Model):
    """A department or independent agency: the top of a unit tree."""

    code = models.CharField(max_length=16, unique=True, help_text="Short upper-case code, e.g. VA, DHS.")
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Unit(models.Model):
    """An organizational unit; units form a tree of any depth under an agency.

    `path` is a materialized path of unit ids ("/3/17/42/"), so "this unit and everything below it" is one
    indexed prefix query (`path__startswith`), whatever the depth.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="units")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=200)
    path = models.CharField(max_length=1024, db_index=False, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "parent", "name"], name="unit_unique_name_in_parent"),
            # NULL parents are distinct in a unique index, so top-level names need their own constraint.
            models.UniqueConstraint(
                fields=["agency", "name"], condition=models.Q(parent=None), name="unit_unique_top_level_name"
            ),
        ]
        indexes = [
            # varchar_pattern_ops lets PostgreSQL use the index for LIKE 'prefix%' in any collation.
            models.Index(fields=["path"], name="unit_path_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        """Keep `path` and `depth` right; a unit never moves to another parent through save()."""
        if self.pk is None:
            super().save(*args, **kwargs)
            kwargs = {"update_fields": ["path", "depth"]}
        parent_path = self.parent.path if self.parent_id else "/"
        self.path = f"{parent_path}{self.pk}/"
        self.depth = parent_path.count("/") - 1
        super().save(*args, **kwargs)

    def subtree(self) -> models.QuerySet[Unit]:
        """This unit and every unit below it."""
        return Unit.objects.filter(path__startswith=self.path)

    def ancestors(self) -> models.QuerySet[Unit]:
        """The units above this one, top first."""
        ids = [int(part) for part in self.path.strip("/").split("/")[:-1]]
        return Unit.objects.filter(id__in=ids).order_by("depth")


class EmployeeQuerySet(models.QuerySet["Employee"]):
    def in_unit_subtree(self, unit: Unit) -> EmployeeQuerySet:
        """Everyone in `unit` or any unit below it: one join on the indexed unit path."""
        return self.filter(unit__path__startswith=unit.path)

    def reporting_to(self, manager: Employee) -> EmployeeQuerySet:
        """Everyone below `manager` in the reporting line, at any depth (not the manager)."""
        return self.filter(id__in=reporting_subtree_sql(manager.pk))


def reporting_subtree_sql(manager_id: int) -> RawSQL:
    """The ids of everyone below a manager, as a recursive query usable inside `id__in=`.

    The roster import refuses manager loops, so the recursion always ends.
    """
    table = Employee._meta.db_table
    return RawSQL(
        f"WITH RECURSIVE below(id) AS ("
        f" SELECT id FROM {table} WHERE manager_id = %s"
        f" UNION ALL SELECT e.id FROM {table} e JOIN below b ON e.manager_id = b.id"
        f") SELECT id FROM below",
        [manager_id],
    )


class Employee(models.Model):
    """A person on the roster. Never deleted: people who leave are marked separated."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ON_LEAVE = "on_leave", "On leave"
        SEPARATED = "separated", "Separated"

    employee_number = models.CharField(max_length=32)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(max_length=254, help_text="Work email, stored in lower case.")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="employees")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="employees")
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="direct_reports"
    )
    title = models.CharField(max_length=200, blank=True)
    time_zone = models.CharField(max_length=64, default="America/New_York")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="employee"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EmployeeQuerySet.as_manager()

    class Meta:
        ordering = ["employee_number"]
        # Unique constraints instead of unique=True: PostgreSQL then builds one index per column, not a
        # second `_like` index that the roster import would also have to maintain.
        constraints = [
            models.UniqueConstraint(fields=["employee_number"], name="employee_number_unique"),
            models.UniqueConstraint(fields=["email"], name="employee_email_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.employee_number})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"
