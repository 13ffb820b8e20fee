from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import urls as accounts_urls

from . import metrics_view, overview_api, overview_views, views

api_v1 = [
    path("overview/", overview_api.OverviewView.as_view(), name="api-overview"),
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
    # The overview keeps its name in the accounts namespace (accounts:overview): it is the
    # signed-in user's home, but reads every app, so its view is in the wiring.
    path(
        "",
        include(
            ([path("", overview_views.overview, name="overview"), *accounts_urls.urlpatterns], accounts_urls.app_name)
        ),
    ),
]

handler400 = "billing_portal.views.handler400"
handler403 = "billing_portal.views.handler403"
handler404 = "billing_portal.views.handler404"
handler500 = "billing_portal.views.handler500"
