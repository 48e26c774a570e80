"""The one way to learn that assignments changed: `assignments_changed`, sent inside the transaction
that changed them with `units`, a list of (cycle id, unit id) pairs whose people's statuses may differ.

Sent by every path that changes what an assignment's status is made of: an answer stored
(`reports.submit()` and `submit_many()`), an automatic reply or a bounce recorded (`mark_email_replies()`),
a policy re-applied to an open cycle and an exemption granted or revoked (`freeze.reapply()`,
`freeze.redecide()`). Compliance listens and recounts exactly those units.
"""

from django.dispatch import Signal

assignments_changed = Signal()
