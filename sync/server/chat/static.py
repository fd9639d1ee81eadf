"""The widget's static files from ``resources/widget/`` (plain JS/CSS/HTML, no build step).

Files are read on first use and again when their modification time changes (a deployment replaces
them without a restart), kept with a gzip copy and a strong ETag. ``respond`` answers ``304`` to a
matching ``If-None-Match`` and sends the gzip copy when the client accepts it (``Vary:
Accept-Encoding``).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}
WIDGET_FILES = ("widget.js", "frame.html", "frame.js", "frame.css")


def widget_folder() -> Path:
    """``resources/widget`` of this installation."""
    return Path(str(resources.files("resources") / "widget"))


@dataclass(frozen=True)
class Asset:
    """One file (or rendered page) ready to send."""

    body: bytes
    gzipped: bytes
    etag: str
    media_type: str


def make_asset(body: bytes, media_type: str) -> Asset:
    """Compress and tag ``body``."""
    return Asset(body, gzip.compress(body, 9, mtime=0), '"' + hashlib.sha256(body).hexdigest()[:32] + '"', media_type)


class AssetCache:
    """The widget files, reloaded when they change on disk."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or widget_folder()
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[int, Asset]] = {}

    def get(self, name: str) -> Asset | None:
        """The asset ``name`` (one of ``WIDGET_FILES``) or None when the file is missing."""
        if name not in WIDGET_FILES:
            return None
        path = self.folder / name
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return None
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        asset = make_asset(path.read_bytes(), MEDIA_TYPES[path.suffix])
        with self._lock:
            self._cache[name] = (mtime, asset)
        return asset

    def text(self, name: str) -> str | None:
        """The file as text (for templates), None when missing."""
        asset = self.get(name)
        return None if asset is None else asset.body.decode("utf-8")


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*") and params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            return True
    return False


def respond(request: Request, asset: Asset, *, cache_control: str, headers: dict[str, str] | None = None) -> Response:
    """The asset as a response (304, gzip or identity) with caching headers."""
    common = {"Cache-Control": cache_control, "ETag": asset.etag, "Vary": "Accept-Encoding", **(headers or {})}
    if asset.etag in {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=common)
    if _accepts_gzip(request):
        return Response(asset.gzipped, media_type=asset.media_type, headers=common | {"Content-Encoding": "gzip"})
    return Response(asset.body, media_type=asset.media_type, headers=common)
