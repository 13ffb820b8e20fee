"""Sign-in lock-out (django-axes) with two limits.

* per e-mail and address: ``AXES_FAILURE_LIMIT`` failures lock that e-mail out from
  that address (guessing one account's password);
* per address across e-mails: ``AXES_IP_FAILURE_LIMIT`` failures lock the address out
  for every e-mail (password spraying: one password tried on many accounts).

Axes compares one number with one limit, so the handler reports the per-address count
as "at the limit" once it reaches its own limit. A successful sign-in clears the
failures of that e-mail from that address only, so that an attacker who owns one
account cannot reset the address's count by signing in to it.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from django.conf import settings
from django.db.models import Sum

# AXES_LOCKOUT_PARAMETERS in settings: the per-e-mail-and-address set first, then the address.
PER_USER, PER_ADDRESS = 0, 1


def _failures(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class PortalAxesHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None) -> int:
        attempts = self.get_user_attempts(request, credentials)
        per_user = _failures(attempts[PER_USER])
        if len(attempts) > PER_ADDRESS and _failures(attempts[PER_ADDRESS]) >= settings.AXES_IP_FAILURE_LIMIT:
            return max(per_user, get_failure_limit(request, credentials))
        return per_user

    def reset_user_attempts(self, request, credentials=None) -> int:
        count, _ = self.filter_user_attempts(request, credentials)[PER_USER].delete()
        return count
