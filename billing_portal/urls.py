from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import metrics_view, views

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("payments.api.urls")),
    path("", include("invoices.api.urls")),
    path("", include("purchase_orders.api.urls")),
    path("", include("support.api.urls")),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Prometheus metrics: off unless METRICS_TOKEN is set, and only for its bearer.
    path("metrics", metrics_view.metrics, name="metrics"),
    # Browsers ask for /favicon.ico whatever the page says; the pages link the SVG.
    path("favicon.ico", views.favicon, name="favicon"),
    path("language/", views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("payments.urls")),
    path("", include("invoices.urls")),
    path("", include("purchase_orders.urls")),
    path("", include("support.urls")),
    path("", include("accounts.urls")),
]

handler400 = "billing_portal.views.handler400"
handler403 = "billing_portal.views.handler403"
handler404 = "billing_portal.views.handler404"
handler500 = "billing_portal.views.handler500"
