import io

import pytest
from PIL import Image

from benchmarks.logo_eval import DEFAULT_LOGO, TRANSFORMS, evaluate, other_images
from watcher.matching import Candidate, Matcher, SchoolTerms
from watcher.matching.logo import LogoMatcher, load_image

MATCHER = LogoMatcher([DEFAULT_LOGO], max_distance=10)
EMBLEM = load_image(DEFAULT_LOGO)


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transformed_emblem_matches(name):
    assert MATCHER.match(TRANSFORMS[name](EMBLEM)) is not None


@pytest.mark.parametrize("name, image", other_images(count=12), ids=lambda x: x if isinstance(x, str) else "")
def test_other_images_do_not_match(name, image):
    assert MATCHER.match(image) is None


def test_generated_set_accuracy():
    r = evaluate()
    assert r["tp"] == r["positives"] and r["fp"] == 0


def test_avatar_bytes_png_with_alpha():
    rgba = EMBLEM.convert("RGBA")
    buf = io.BytesIO()
    rgba.save(buf, "PNG")
    assert MATCHER.match(buf.getvalue()) is not None


def test_matcher_reports_logo_with_distance(tmp_path):
    avatar = tmp_path / "a.jpg"
    TRANSFORMS["JPEG质量20"](EMBLEM).save(avatar)
    m = Matcher(SchoolTerms("X大学", ["X大学"]), logos=[DEFAULT_LOGO])
    r = m.match(Candidate("douyin", "1", "随便看看", avatar=str(avatar)))
    assert r.verdict == "suspect"
    assert any("校徽" in x and "距离" in x for x in r.reasons)


def test_unreadable_avatar_is_a_reason_not_a_crash(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    m = Matcher(SchoolTerms("X大学", ["X大学"]), logos=[DEFAULT_LOGO])
    r = m.match(Candidate("douyin", "1", "随便看看", avatar=str(bad)))
    assert r.verdict == "clear" and any("头像无法读取" in x for x in r.reasons)


def test_plain_image_object():
    assert MATCHER.match(Image.new("RGB", (100, 100), "white")) is None
