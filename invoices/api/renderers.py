"""The PDF media type for the PDF endpoints, so that ``Accept: application/pdf`` passes
DRF's content negotiation (the PDF itself is a FileResponse, not rendered here)."""

from rest_framework.renderers import BaseRenderer


class PDFRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data
