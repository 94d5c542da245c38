"""Download links of media (the bytes behind a webhook's media URL and the
simulated phone's pictures). Public: whoever holds an unexpired signed link
gets the file, as with Z-API's imageUrl and documentUrl."""

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from instances import media


@require_safe
@cache_control(private=True)
def media_download(request: HttpRequest, signed: str, file_name: str) -> HttpResponse:
    try:
        linked = media.media_link_open(signed)
    except media.MediaLinkExpired:
        return render(request, "instances/media_expired.html", status=410)
    except media.MediaLinkInvalid:
        raise Http404 from None
    response = FileResponse(
        linked.media_file.file.open("rb"),
        content_type=linked.media_file.mime_type,
        as_attachment=linked.attachment,
        filename=linked.file_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Even a file opened in its own tab runs nothing from this origin.
    response["Content-Security-Policy"] = "sandbox"
    return response
