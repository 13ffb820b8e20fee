"""The admin site: Django's, for users verified with a second factor only.

``PortalAdminConfig`` replaces ``django.contrib.admin`` in INSTALLED_APPS, so that
``admin.site`` (and every ``@admin.register``) is a ``PortalAdminSite``. Its rule is
django-otp's ``OTPAdminSite``: a staff user whose session has not passed the code step
(``request.user.is_verified()``, set by ``django_otp.middleware.OTPMiddleware``) is
treated as not staff. The code step itself is the portal's own (the sign-in page, then
``accounts:two_factor_verify`` or the set-up page), which
``accounts.two_factor_middleware`` sends every unverified staff session to; the admin's
sign-in form stays Django's, behind the same django-axes lock-out.

The site class is here rather than a subclass of ``django_otp.admin.OTPAdminSite``
because this module is imported while the app registry is being filled, before models
may be imported (django_otp.admin imports them).
"""

from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.sites import AdminSite


class PortalAdminSite(AdminSite):
    def has_permission(self, request):
        verified = getattr(request.user, "is_verified", None)
        return super().has_permission(request) and callable(verified) and bool(verified())


class PortalAdminConfig(AdminConfig):
    default_site = "billing_portal.admin_site.PortalAdminSite"
