"""Checking and cleaning uploaded photos (pure: bytes in, bytes out; no Flask).

An upload is judged by its content alone: the file name and the declared type are never
read. `clean_image` refuses anything that is empty, too many bytes, not a JPEG, PNG, WebP
or GIF, declares too many pixels, or is damaged; what passes is decoded, turned upright
(EXIF orientation), converted to sRGB, shrunk to at most `max_side` pixels and re-encoded
from bare pixels, so no metadata of the upload survives: no EXIF (above all no GPS
position), no XMP, no comments, no PNG text chunks, no ICC profile.

Decompression bombs (a small file declaring a huge picture) are refused from the header,
before any pixel is decoded: our own pixel limit, and Pillow's (its warning is an error
here). Pillow's limit stays in force, so the effective cap is the lower of the two
(Pillow's is 89.5 megapixels).
"""
from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageCms, ImageFile

from errors import DomainError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")  # Pillow plugins allowed to parse uploads
MAX_SIDE = 2048
THUMB_SIDE = 320
JPEG_QUALITY = 85
THUMB_QUALITY = 80

# What Pillow raises on malformed input (the set its own fuzz tests accept), so a hostile
# file becomes a polite refusal rather than a 500.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, NotImplementedError, OverflowError,
                  SystemError, MemoryError, ImageCms.PyCMSError)

_RESIZE_FIRST = ("L", "RGB", "RGBA", "CMYK")  # modes Pillow resamples well as they are

# EXIF orientation -> the turn that makes the picture upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class PhotoRejected(DomainError):
    """An upload that is not a photo we accept; nothing of it is stored."""

    status = 422
    code = "photo_rejected"

    def __init__(self, message: str, *, field: str = "photo"):
        super().__init__(message, fields={field: [message]})
        self.field = field


@dataclass(frozen=True)
class CleanImage:
    bytes_: bytes
    width: int
    height: int
    format: str  # "JPEG", or "PNG" when the picture has transparency
    thumb_bytes: bytes  # always JPEG

    @property
    def content_type(self) -> str:
        return content_type_of(self.bytes_)


def content_type_of(data: bytes) -> str:
    """The type of bytes this module wrote (JPEG or PNG), from their signature."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return "application/octet-stream"


def megabytes(size: int) -> str:
    """A size for people, rounded up (so a file just over a limit never reads as equal to it)."""
    if size < 1024 * 1024:
        return f"{math.ceil(size / 1024)} KB"
    tenths = math.ceil(size * 10 / (1024 * 1024))
    return f"{tenths // 10} MB" if tenths % 10 == 0 else f"{tenths / 10:.1f} MB"


def clean_image(data: bytes, *, max_bytes: int, max_pixels: int, field: str = "photo",
                max_side: int = MAX_SIDE, thumb_side: int = THUMB_SIDE) -> CleanImage:
    """Check an upload by its content and return a re-encoded, metadata-free copy and a
    thumbnail. Raises PhotoRejected (with `field` named in its fields) for anything else."""
    if not data:
        raise PhotoRejected("That file is empty. Choose a photo to upload.", field=field)
    if len(data) > max_bytes:
        raise PhotoRejected(f"That photo is {megabytes(len(data))}; the limit is {megabytes(max_bytes)}. "
                            "Choose a smaller photo or reduce its size first.", field=field)
    try:
        _verify(data, max_pixels=max_pixels, field=field)
        picture = _decode(data, max_pixels=max_pixels, field=field, max_side=max_side)
        picture = _upright_srgb(picture, max_side=max_side)
    except PhotoRejected:
        raise
    except Image.UnidentifiedImageError:
        raise PhotoRejected(NOT_A_PHOTO, field=field) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected(_too_many_pixels(None, max_pixels), field=field) from None
    except _DECODE_ERRORS:
        raise PhotoRejected("That photo seems damaged or incomplete (perhaps the upload was cut short). "
                            "Try again, or choose another photo.", field=field) from None
    return _encode(picture, thumb_side=thumb_side)


NOT_A_PHOTO = "That file is not a photo we can read. Upload a JPEG, PNG or WebP image."


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> str:
    limit = f"{max_pixels / 1_000_000:g} megapixels"
    if size is None:
        return f"That image has too many pixels to be safe to open; the limit is {limit}."
    return f"That image is {size[0]} × {size[1]} pixels, too many to be safe to open; the limit is {limit}."


def _open(data: bytes, *, max_pixels: int, field: str) -> Image.Image:
    """Read only the header, and refuse by declared size before any pixel is decoded."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # someone relaxed Pillow globally: we do not
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    if image.format not in ACCEPTED_FORMATS and image.format != "MPO":  # MPO: a camera JPEG
        raise PhotoRejected(NOT_A_PHOTO, field=field)
    if image.width * image.height > max_pixels:
        raise PhotoRejected(_too_many_pixels(image.size, max_pixels), field=field)
    return image


def _verify(data: bytes, *, max_pixels: int, field: str) -> None:
    """Pillow's structural check (checksums, chunk order); the image is unusable after."""
    with _open(data, max_pixels=max_pixels, field=field) as image:
        image.verify()


def _decode(data: bytes, *, max_pixels: int, field: str, max_side: int) -> Image.Image:
    """Decode the first frame fully; a truncated file raises here (we never set
    LOAD_TRUNCATED_IMAGES). JPEGs are decoded at a reduced scale when they are larger
    than we keep, which saves most of the memory a big camera photo needs."""
    image = _open(data, max_pixels=max_pixels, field=field)
    if image.format in ("JPEG", "MPO") and max(image.size) > max_side:
        scale = max_side / max(image.size)
        image.draft(None, (math.ceil(image.width * scale), math.ceil(image.height * scale)))
    image.load()
    return image


def _upright_srgb(image: Image.Image, *, max_side: int) -> Image.Image:
    """Colours converted to sRGB, shrunk to fit max_side, then turned as the camera meant.
    The orientation is read first: the conversions return images without the EXIF."""
    turn = _UPRIGHT.get(_orientation(image))
    if image.mode in _RESIZE_FIRST and "transparency" not in image.info:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)  # converting a big one costs more
        image = _to_srgb(image)
    else:
        image = _to_srgb(image)
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image.transpose(turn) if turn is not None else image


def _orientation(image: Image.Image) -> int | None:
    """The EXIF orientation, if any; unreadable EXIF counts as none rather than a refusal."""
    try:
        return image.getexif().get(ExifTags.Base.Orientation)
    except _DECODE_ERRORS:
        return None


def _to_srgb(image: Image.Image) -> Image.Image:
    """RGB, RGBA or L pixels in sRGB. An embedded colour profile (a phone's Display P3, a
    print shop's CMYK) is applied rather than dropped, so colours stay right once the
    profile is gone; a profile lcms cannot use falls back to a plain conversion."""
    profile = image.info.get("icc_profile")
    alpha = image.has_transparency_data
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16-bit or float greyscale
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    target = "RGBA" if alpha else ("L" if image.mode in ("1", "L") else "RGB")
    if profile and image.mode == "CMYK":
        converted = _apply_profile(image, profile, target)
        if converted is not None:
            image, profile = converted, None
    if image.mode != target:
        image = image.convert(target)
    if profile and target in ("RGB", "RGBA"):
        image = _apply_profile(image, profile, target) or image
    return image


def _apply_profile(image: Image.Image, profile: bytes, mode: str) -> Image.Image | None:
    try:
        return ImageCms.profileToProfile(image, ImageCms.ImageCmsProfile(io.BytesIO(profile)),
                                         ImageCms.createProfile("sRGB"), outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None


def _is_opaque(image: Image.Image) -> bool:
    return image.mode != "RGBA" or image.getchannel("A").getextrema() == (255, 255)


def _bare(image: Image.Image) -> Image.Image:
    """A new image holding only the pixels: no info dict, no EXIF, no profile to leak."""
    bare = Image.new(image.mode, image.size)
    bare.paste(image)
    return bare


def _flatten(image: Image.Image) -> Image.Image:
    """Transparency over white, for JPEG."""
    if image.mode != "RGBA":
        return image
    flat = Image.new("RGB", image.size, "white")
    flat.paste(image, mask=image.getchannel("A"))
    return flat


def _encode(image: Image.Image, *, thumb_side: int) -> CleanImage:
    if _is_opaque(image):
        picture = _bare(image.convert("RGB") if image.mode == "RGBA" else image)
        fmt, options = "JPEG", {"quality": JPEG_QUALITY, "optimize": True}
    else:
        picture = _bare(image)
        fmt, options = "PNG", {}
    full = io.BytesIO()
    picture.save(full, fmt, **options)

    thumb = _flatten(picture)
    thumb = thumb.copy() if thumb is picture else thumb
    thumb.thumbnail((thumb_side, thumb_side), Image.Resampling.LANCZOS)
    small = io.BytesIO()
    thumb.save(small, "JPEG", quality=THUMB_QUALITY, optimize=True)
    return CleanImage(bytes_=full.getvalue(), width=picture.width, height=picture.height, format=fmt,
                      thumb_bytes=small.getvalue())
