"""The media types of the file endpoints (PDF, ZIP, CSV), so that ``Accept:
application/pdf`` (or zip, csv) passes DRF's content negotiation; the file itself is a
FileResponse or StreamingHttpResponse, not rendered here. ``FileAnswer`` makes an error
of such an endpoint the JSON error shape whatever the Accept header."""

from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response


class _FileRenderer(BaseRenderer):
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class PDFRenderer(_FileRenderer):
    media_type = "application/pdf"
    format = "pdf"


class ZIPRenderer(_FileRenderer):
    media_type = "application/zip"
    format = "zip"


class CSVRenderer(_FileRenderer):
    media_type = "text/csv"
    format = "csv"


class FileAnswer:
    """For an APIView whose success is a file: an error (a DRF Response) is JSON."""

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response):  # an error (the file is a FileResponse)
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
