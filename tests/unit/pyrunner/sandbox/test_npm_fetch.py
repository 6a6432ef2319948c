from __future__ import annotations

import base64
import hashlib

from pyrunner.sandbox import npm_fetch


def test_tarball_url_for_plain_and_scoped_packages() -> None:
    assert npm_fetch.tarball_url("koa", "2.15.0") == "https://registry.npmjs.org/koa/-/koa-2.15.0.tgz"
    assert npm_fetch.tarball_url("@20minutes/s3rver", "5.0.0") == (
        "https://registry.npmjs.org/@20minutes/s3rver/-/s3rver-5.0.0.tgz"
    )


def test_integrity_is_checked() -> None:
    data = b"package"
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    assert npm_fetch.verify_integrity(data, integrity)
    assert not npm_fetch.verify_integrity(b"tampered", integrity)
