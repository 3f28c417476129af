"""Photos of cases: staff list, view, attach and publish them; anyone sees a published one.

The bytes come from the photo storage (``PHOTO_STORAGE``), the records from the requests
service. Staff images are ``Cache-Control: private``; ``/p/photos/<photo_id>`` answers only for a
published photo and is a plain 404 for any other id, so it never tells that an unpublished
photo exists.
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from services.common.errors import Conflict, ValidationFailed
from services.gateway import photos, uploads
from services.gateway.apidoc import Route, path_id
from services.gateway.http import UnsupportedMediaType, endpoint, json_response
from services.gateway.plumbing import Plumbing
from services.requests.schemas import MAX_PHOTOS, PhotoSchema

#: Published photos change rarely but may be taken down: caches keep them a few minutes at most.
PUBLIC_CACHE = "public, max-age=300"


class PhotoRoutes(Plumbing):
    @endpoint("GET", "/api/v1/cases/<string:case_id>/photos")
    def list_photos(self, request: Request, case_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response({"data": self._call("requests", "list_photos", tenant, case_id), "has_more": False})

    @endpoint("POST", "/api/v1/cases/<string:case_id>/photos", body_limit="MAX_UPLOAD_BODY_BYTES")
    def attach_photos(self, request: Request, case_id: str) -> Response:
        """Staff's photos of a walk-in case: multipart/form-data, 1–3 files in the field ``photo``."""
        tenant, actor = self._tenant(request)
        case = self._case(tenant, case_id)  # another tenant's case: 404 before any upload is read
        if (request.mimetype or "") != "multipart/form-data":
            raise UnsupportedMediaType("Content-Type must be multipart/form-data, the photos in the field photo")
        files = [f for f in request.files.getlist(uploads.FIELD) if f.filename]
        if not files:
            raise ValidationFailed("no photo sent", {uploads.FIELD: [uploads.NONE_SENT]})
        if case["photo_count"] + len(files) > MAX_PHOTOS and len(files) <= MAX_PHOTOS:
            raise Conflict(f"a case has at most {MAX_PHOTOS} photos; this one has {case['photo_count']}")
        records = self.store_photos(tenant, files)
        found = self.record_photos(records, "attach_photos", tenant, case_id, records, actor)
        return json_response({"data": found, "has_more": False}, 201)

    @endpoint("GET", "/api/v1/cases/<string:case_id>/photos/<string:photo_id>")
    def photo(self, request: Request, case_id: str, photo_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return self._image(self._call("requests", "photo_of", tenant, case_id, photo_id), "private, max-age=300")

    @endpoint("POST", "/api/v1/cases/<string:case_id>/photos/<string:photo_id>/publish")
    def publish_photo(self, request: Request, case_id: str, photo_id: str) -> Response:
        tenant, actor = self._tenant(request)
        return json_response(self._call("requests", "publish_photo", tenant, case_id, photo_id, actor))

    @endpoint("POST", "/api/v1/cases/<string:case_id>/photos/<string:photo_id>/unpublish")
    def unpublish_photo(self, request: Request, case_id: str, photo_id: str) -> Response:
        tenant, actor = self._tenant(request)
        return json_response(self._call("requests", "unpublish_photo", tenant, case_id, photo_id, actor))

    @endpoint("GET", "/p/photos/<string:photo_id>")
    def public_photo(self, request: Request, photo_id: str) -> Response:
        return self._image(self._call("requests", "published_photo", photo_id), PUBLIC_CACHE)

    def _image(self, found: dict, cache: str) -> Response:
        data = self.photo_store.get(found["storage_key"])
        response = Response(data, mimetype=found["content_type"])
        response.headers["Cache-Control"] = cache
        response.headers["X-Content-Type-Options"] = "nosniff"
        extension = photos.EXTENSIONS[found["content_type"]]
        response.headers["Content-Disposition"] = f'inline; filename="{found["id"]}.{extension}"'
        response.set_etag(found["sha256"])
        return response


CASE = path_id("case_id")
PHOTO = path_id("photo_id")
IMAGES = tuple(photos.EXTENSIONS)  # image/jpeg, image/png, image/webp

ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "/api/v1/cases/{case_id}/photos",
        "A case's photos (published or not), oldest first",
        PhotoSchema,
        many=True,
        params=(CASE,),
        errors=(404,),
    ),
    Route(
        "POST",
        "/api/v1/cases/{case_id}/photos",
        "Attach 1–3 photos to a case (multipart/form-data, field photo): cleaned of EXIF/GPS, re-encoded; "
        "at most 3 a case",
        PhotoSchema,
        201,
        many=True,
        params=(CASE,),
        upload=uploads.FIELD,
        errors=(404, 409, 413, 415, 422),
    ),
    Route(
        "GET",
        "/api/v1/cases/{case_id}/photos/{photo_id}",
        "The photo itself (JPEG, PNG or WebP; Cache-Control: private)",
        None,
        params=(CASE, PHOTO),
        errors=(404,),
        media=IMAGES,
    ),
    Route(
        "POST",
        "/api/v1/cases/{case_id}/photos/{photo_id}/publish",
        "Show the photo on the estate's public board and at /p/photos/{photo_id} (audited)",
        PhotoSchema,
        params=(CASE, PHOTO),
        errors=(404,),
    ),
    Route(
        "POST",
        "/api/v1/cases/{case_id}/photos/{photo_id}/unpublish",
        "Take the photo off the public board and /p/photos/{photo_id} (audited)",
        PhotoSchema,
        params=(CASE, PHOTO),
        errors=(404,),
    ),
    Route(
        "GET",
        "/p/photos/{photo_id}",
        "Public: a published photo of a case (404 for any other id)",
        None,
        params=(PHOTO,),
        errors=(404,),
        auth=False,
        media=IMAGES,
        tag="estates",
    ),
)
