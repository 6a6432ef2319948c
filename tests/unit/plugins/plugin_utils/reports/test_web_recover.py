"""The web-recover report (plugin_utils/reports/web_recover.py): what it found, did and left, from raw results."""

from __future__ import annotations

from tests.unit.plugins.plugin_utils.reports.builders import SKIPPED, build


def test_web_recover_words_the_rebuild_and_the_restart_for_web() -> None:
    before = {"ok": False, "problems": ["index.html is missing"], "dist": {"root": "/usr/share/nginx/html"}}
    after = {"ok": True, "problems": [], "http": {"asset": "/assets/index-abc.js"}}
    rebuild = {"actions": ["rebuilt web (a rebuild was asked for)"]}
    results = {"before": before, "after": after, "rebuild": rebuild, "config": SKIPPED, "restart": SKIPPED}
    report = build("web_recover", results)
    assert report["done"] == [
        "rebuilt web (/usr/share/nginx/html was missing or incomplete)",
        "GET / answers 200 with the app's index.html; /assets/index-abc.js loads",
    ]
    refused = build(
        "web_recover",
        {
            "before": {
                "problems": ["nginx -t fails"],
                "service": "web",
                "config": {"failing_line": "default.conf:12", "output": "x"},
            }
        },
        {"state_dir": "/var/lib/ods-fix/p/web"},
        builder="no_good_copy",
    )
    assert refused["failed"] and refused["left"][0].startswith(
        "fix default.conf:12, check it with docker-compose exec web nginx -t"
    )
    assert (
        refused["msg"]
        == "nginx -t fails: default.conf:12; no known-good copy in /var/lib/ods-fix/p/web (nothing was changed)"
    )
