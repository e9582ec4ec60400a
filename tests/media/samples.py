"""Real image files made with Pillow (and by hand, for the bomb), for the photo tests."""
from __future__ import annotations

import io
import os
import struct
import zlib

from PIL import Image, ExifTags, ImageCms, PngImagePlugin

SECRET_MAKE = "SecretCam-4000"
HOME_LATITUDE = ((51, 1), (27, 1), (162, 10))  # 51° 27' 16.2" N: where a child lives
COMMENT = "taken at 12 Acacia Avenue"


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def gps_exif(*, orientation: int | None = None) -> Image.Exif:
    """EXIF with a camera name and a GPS position (IFD 0x8825), as phones write it."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = SECRET_MAKE
    exif[ExifTags.Base.Model] = SECRET_MAKE
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (51.0, 27.0, 16.2),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (2.0, 35.0, 16.4),
    }
    return exif


def two_tone(size=(400, 200), left=(0, 0, 255), right=(255, 0, 0), mode="RGB") -> Image.Image:
    """Left half one colour, right half another: shows which way a picture was turned."""
    image = Image.new(mode, size, right)
    image.paste(left, (0, 0, size[0] // 2, size[1]))
    return image


def photo_with_gps(size=(400, 200), *, orientation: int | None = None) -> bytes:
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description>{COMMENT}</rdf:Description></x:xmpmeta>'
    return encode(two_tone(size), "JPEG", quality=90, exif=gps_exif(orientation=orientation),
                  icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
                  comment=COMMENT.encode(), xmp=xmp.encode())


def png_with_text(size=(300, 200), *, alpha: bool = False) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", COMMENT)
    info.add_text("Location", COMMENT, zip=True)
    image = two_tone(size, mode="RGBA", left=(0, 0, 255, 128 if alpha else 255), right=(255, 0, 0, 255))
    return encode(image, "PNG", pnginfo=info, exif=gps_exif())


def noisy_jpeg(size=(800, 600)) -> bytes:
    """Hard to compress, so cutting it short loses real picture data."""
    return encode(Image.effect_noise(size, 64).convert("RGB"), "JPEG", quality=90)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A valid PNG of one colour that declares width x height pixels (900 megapixels by
    default) yet is about 100 KB: 1-bit rows of zeros compress about a thousand times."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def read(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def stored_files(storage) -> list[str]:
    """Every file under a LocalStorage folder, temporary ones included."""
    return sorted(os.path.relpath(os.path.join(folder, name), storage.root)
                  for folder, _, names in os.walk(storage.root) for name in names)
