"""The one door to other people's report text: which reports a user may read, by the rules in
`access.scopes` with the facts they need from `directives` (which agencies share their text).

Every page, export and API that shows report text reads through `visible_reports()` (or filters by
`report_filter()`), and audits each read of someone else's.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from lastweek.access import scopes
from lastweek.access.scopes import AnyUser
from lastweek.directives.models import ContentSetting
from lastweek.reports.models import Report


def report_filter(user: AnyUser) -> Q:
    """A filter on reports selecting those whose text `user` may read."""
    return scopes.report_filter(user, text_shared_by=ContentSetting.agencies_sharing_text())


def visible_reports(user: AnyUser) -> QuerySet[Report]:
    """The reports whose content `user` may read; callers audit each read of someone else's."""
    return Report.objects.filter(report_filter(user))
