"""clean_image: photos are judged by content, and come out re-encoded with no metadata.
Pure: no app, no database."""
from __future__ import annotations

import io
import resource
import time

import pytest
from PIL import ExifTags, Image, ImageCms

from media.images import MAX_SIDE, THUMB_SIDE, PhotoRejected, clean_image
from tests.media import samples

LIMITS = dict(max_bytes=8 * 1024 * 1024, max_pixels=40_000_000)


def clean(data: bytes, **kw):
    return clean_image(data, **{**LIMITS, **kw})


def rejected(data: bytes, **kw) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as caught:
        clean(data, **kw)
    error = caught.value
    assert error.status == 422
    assert error.fields == {kw.get("field", "photo"): [error.message]}
    return error


def assert_no_metadata(data: bytes) -> None:
    image = samples.read(data)
    assert not image.getexif(), "EXIF survived"
    assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo), "GPS survived"
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "Comment", "Location"):
        assert key not in image.info, f"{key} survived"
    for marker in (samples.SECRET_MAKE.encode(), samples.COMMENT.encode(), b"Exif\x00\x00", b"xmpmeta",
                   b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP"):
        assert marker not in data, f"{marker!r} survived"


# --- metadata ------------------------------------------------------------------------------

def test_exif_gps_is_removed_from_a_jpeg():
    original = samples.photo_with_gps()
    before = samples.read(original).getexif()
    assert before.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"  # the test is real

    result = clean(original)

    assert result.format == "JPEG"
    assert_no_metadata(result.bytes_)
    assert_no_metadata(result.thumb_bytes)


def test_png_text_chunks_and_exif_are_removed():
    result = clean(samples.png_with_text())
    assert_no_metadata(result.bytes_)


def test_png_renamed_jpg_is_read_by_content():
    # clean_image never sees a name: the bytes decide. (The upload path is in test_services.)
    result = clean(samples.png_with_text(size=(120, 80)))
    assert (result.width, result.height) == (120, 80)
    assert samples.read(result.bytes_).format == "JPEG"  # opaque PNG re-encoded as JPEG


def test_transparency_is_kept_as_png_and_flattened_in_the_thumbnail():
    result = clean(samples.png_with_text(alpha=True))
    assert result.format == "PNG" and result.content_type == "image/png"
    assert samples.read(result.bytes_).mode == "RGBA"
    assert samples.read(result.thumb_bytes).format == "JPEG"
    assert_no_metadata(result.bytes_)


def test_a_colour_profile_is_applied_then_dropped():
    wide = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()  # not RGB: falls back
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for profile in (srgb, wide):
        data = samples.encode(samples.two_tone(), "JPEG", icc_profile=profile)
        result = clean(data)
        assert "icc_profile" not in samples.read(result.bytes_).info
        assert samples.read(result.bytes_).getpixel((300, 100))[0] > 200  # still red


def test_cmyk_jpeg_becomes_rgb():
    data = samples.encode(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG")
    result = clean(data)
    image = samples.read(result.bytes_)
    assert image.mode == "RGB" and image.getpixel((5, 5))[0] > 200


# --- orientation, size, thumbnails ---------------------------------------------------------

def test_exif_orientation_is_applied():
    # Orientation 6: the camera was turned; the picture must be rotated 90° clockwise.
    result = clean(samples.photo_with_gps(size=(400, 200), orientation=6))
    assert (result.width, result.height) == (200, 400)
    image = samples.read(result.bytes_)
    top, bottom = image.getpixel((100, 20)), image.getpixel((100, 380))
    assert top[2] > 200 and top[0] < 60  # the blue left half is now on top
    assert bottom[0] > 200 and bottom[2] < 60


def test_large_photos_are_shrunk_and_thumbnails_are_smaller():
    result = clean(samples.noisy_jpeg(size=(4000, 1000)))
    assert (result.width, result.height) == (MAX_SIDE, 512)
    thumb = samples.read(result.thumb_bytes)
    assert max(thumb.size) == THUMB_SIDE and thumb.format == "JPEG"
    assert len(result.thumb_bytes) < len(result.bytes_)


@pytest.mark.parametrize("size, expected", [((6000, 4000), (2048, 1365)), ((12000, 1500), (2048, 256)),
                                            ((1500, 9000), (341, 2048))])
def test_big_jpegs_are_decoded_at_a_reduced_scale_and_fit_exactly(size, expected):
    data = samples.encode(samples.two_tone(size), "JPEG")
    result = clean(data)
    assert (result.width, result.height) == expected
    image = samples.read(result.bytes_)
    assert image.getpixel((5, 5))[2] > 200 and image.getpixel((result.width - 5, result.height - 5))[0] > 200


def test_small_photos_are_not_enlarged():
    result = clean(samples.encode(samples.two_tone((50, 30)), "PNG"))
    assert (result.width, result.height) == (50, 30)
    assert samples.read(result.thumb_bytes).size == (50, 30)


@pytest.mark.parametrize("fmt", ["WEBP", "GIF"])
def test_webp_and_gif_are_accepted(fmt):
    result = clean(samples.encode(samples.two_tone((64, 32)), fmt))
    assert (result.width, result.height) == (64, 32)
    assert samples.read(result.bytes_).format in ("JPEG", "PNG")


def test_a_multi_picture_camera_jpeg_is_accepted():
    first, second = samples.two_tone((60, 40)), Image.new("RGB", (60, 40), "green")
    data = samples.encode(first, "MPO", save_all=True, append_images=[second], exif=samples.gps_exif())
    assert Image.open(io.BytesIO(data)).format == "MPO"
    result = clean(data)
    assert (result.width, result.height) == (60, 40)
    assert_no_metadata(result.bytes_)


def test_only_the_first_frame_of_an_animation_is_kept():
    frames = [Image.new("RGB", (40, 40), colour) for colour in ("red", "blue", "green")]
    data = samples.encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    image = samples.read(clean(data).bytes_)
    red, green, blue = image.getpixel((20, 20))[:3]
    assert red > 200 and green < 60 and blue < 60


def test_sixteen_bit_greyscale_is_scaled_not_clipped():
    data = samples.encode(Image.new("I;16", (20, 20), 40000), "PNG")
    image = samples.read(clean(data).bytes_)
    assert image.mode == "L" and 150 <= image.getpixel((5, 5)) <= 160


# --- refusals ------------------------------------------------------------------------------

def test_a_text_file_is_refused():
    error = rejected(b"Dear council, please fix the pothole.\n" * 10)
    assert "not a photo" in error.message


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "PPM"])
def test_formats_we_do_not_take_are_refused(fmt):
    assert "JPEG, PNG or WebP" in rejected(samples.encode(samples.two_tone(), fmt)).message


def test_an_empty_file_is_refused():
    assert "empty" in rejected(b"").message


def test_too_many_bytes_are_refused_before_reading():
    error = rejected(b"\xff\xd8\xff" + b"x" * 2000, max_bytes=1000)
    assert error.message.startswith("That photo is 2 KB; the limit is 1 KB.")
    error = rejected(b"x" * (8 * 1024 * 1024 + 1))
    assert error.message.startswith("That photo is 8.1 MB; the limit is 8 MB.")


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_a_truncated_jpeg_is_refused(keep):
    data = samples.noisy_jpeg()
    assert "damaged or incomplete" in rejected(data[:int(len(data) * keep)]).message


def test_a_truncated_png_is_refused():
    data = samples.encode(Image.effect_noise((300, 300), 64), "PNG")
    assert "damaged or incomplete" in rejected(data[:len(data) // 2]).message


def test_a_corrupted_png_is_refused():
    data = bytearray(samples.encode(Image.effect_noise((100, 100), 64), "PNG"))
    data[200] ^= 0xFF  # inside the image data: its checksum no longer matches
    rejected(bytes(data))


def test_the_field_name_is_the_callers():
    assert rejected(b"nope", field="evidence_photos").fields == {"evidence_photos": [
        "That file is not a photo we can read. Upload a JPEG, PNG or WebP image."]}


# --- decompression bombs -------------------------------------------------------------------

def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


@pytest.mark.parametrize("width, height", [(30000, 30000), (10000, 10000)])
def test_a_decompression_bomb_is_refused_without_decoding(width, height):
    # 900 and 100 megapixels: Pillow's own error, and its warning (an error here).
    bomb = samples.png_bomb(width, height)
    assert len(bomb) < 200_000
    before, started = peak_memory_mb(), time.perf_counter()

    error = rejected(bomb, max_pixels=10**12)  # our limit out of the way: Pillow's still holds

    assert "too many pixels" in error.message
    assert time.perf_counter() - started < 1
    assert peak_memory_mb() - before < 50  # decoding would need 100 MB to 900 MB


def test_our_pixel_limit_refuses_from_the_header():
    bomb = samples.png_bomb(8000, 6000)  # 48 megapixels, under Pillow's limit
    before = peak_memory_mb()
    error = rejected(bomb)
    assert "8000 × 6000 pixels" in error.message and "40 megapixels" in error.message
    assert peak_memory_mb() - before < 20


def test_a_jpeg_over_the_pixel_limit_is_refused():
    data = samples.encode(Image.new("L", (1000, 1000)), "JPEG")
    assert "1000 × 1000" in rejected(data, max_pixels=999_999).message


def test_the_output_is_a_fresh_encoding_not_the_upload():
    original = samples.photo_with_gps()
    result = clean(original)
    assert result.bytes_ != original
    assert io.BytesIO(result.bytes_).read(3) == b"\xff\xd8\xff"
