"""Signatures as a receiver checks them (pure: no app)."""
from __future__ import annotations

import hashlib
import hmac

import pytest

from webhooks.signing import InvalidSignature, sign, verify

SECRET = "whsec_test"
BODY = b'{"event":"problem.status_changed","data":{"problem":{"id":1}}}'
T = 1_800_000_000


def test_a_signature_is_t_and_v1_hmac_of_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, T, BODY) == f"t={T},v1={expected}"


def test_a_valid_signature_verifies_and_gives_its_timestamp():
    assert verify(SECRET, sign(SECRET, T, BODY), BODY, now=T + 10) == T


def test_a_tampered_body_is_refused():
    header = sign(SECRET, T, BODY)
    with pytest.raises(InvalidSignature, match="does not match"):
        verify(SECRET, header, BODY.replace(b"1}", b"2}"), now=T)


def test_a_wrong_secret_is_refused():
    with pytest.raises(InvalidSignature, match="does not match"):
        verify("whsec_other", sign(SECRET, T, BODY), BODY, now=T)


def test_a_replay_after_the_tolerance_window_is_refused_though_the_mac_is_valid():
    header = sign(SECRET, T, BODY)
    assert verify(SECRET, header, BODY, now=T + 300) == T
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify(SECRET, header, BODY, now=T + 301)
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify(SECRET, header, BODY, now=T + 3600, tolerance=600)


def test_a_timestamp_far_in_the_future_is_refused():
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify(SECRET, sign(SECRET, T + 1000, BODY), BODY, now=T)


def test_moving_the_timestamp_breaks_the_mac():
    """A replayer cannot refresh an old delivery's t: t is inside the MAC."""
    old = sign(SECRET, T, BODY)
    forged = old.replace(f"t={T}", f"t={T + 3600}")
    with pytest.raises(InvalidSignature, match="does not match"):
        verify(SECRET, forged, BODY, now=T + 3600)


def test_one_matching_v1_among_several_is_enough():
    header = f"t={T},v1={'0' * 64},{sign(SECRET, T, BODY).split(',')[1]},v0=ignored"
    assert verify(SECRET, header, BODY, now=T) == T


@pytest.mark.parametrize("header", [None, "", "v1=abc", f"t={T}", f"t=soon,v1=abc", f"t={T},t={T},v1=ab",
                                    f"t={T},v1=é"])
def test_malformed_headers_are_refused(header):
    with pytest.raises(InvalidSignature):
        verify(SECRET, header, BODY, now=T)


def test_the_readme_example_accepts_ours_and_refuses_tampered_and_replayed_deliveries():
    import pathlib
    import time

    readme = (pathlib.Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("## Webhooks"):]
    code = section[section.index("```python") + len("```python"):]
    namespace: dict = {}
    exec(code[:code.index("```")], namespace)  # noqa: S102 (our own README)
    readme_verify = namespace["verify"]
    now = int(time.time())
    assert readme_verify(SECRET, sign(SECRET, now, BODY), BODY)
    assert not readme_verify(SECRET, sign(SECRET, now, BODY), BODY + b" ")
    assert not readme_verify("whsec_other", sign(SECRET, now, BODY), BODY)
    assert not readme_verify(SECRET, sign(SECRET, now - 301, BODY), BODY)
