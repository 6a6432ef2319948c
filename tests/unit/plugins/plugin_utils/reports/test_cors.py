"""The cors report (plugin_utils/reports/cors.py): what it found, did and left, from raw results."""

from __future__ import annotations

from tests.unit.plugins.plugin_utils.reports.builders import SKIPPED, build


def test_cors_reports_each_api_and_the_proxy_only_ones_and_the_route_it_could_not_restore() -> None:
    before = {
        "ok": False,
        "problems": ["alldata-api refuses http://localhost:3000"],
        "apis": {"alldata-api": {}, "bisheng-api": {}},
        "proxy_only": ["bisheng-api"],
    }
    after = {"ok": True, "problems": [], "apis": {"alldata-api": {}, "bisheng-api": {}}, "proxy_only": ["bisheng-api"]}
    web = {"ok": True, "problems": []}
    setting = {"actions": ["set CORS_ALLOWED_ORIGINS in .env"], "left": []}
    restart = {"actions": ["restarted alldata-api (a restart was asked for)"]}
    results = {
        "before": before,
        "after": after,
        "web_before": web,
        "web_after": web,
        "setting": setting,
        "restart": restart,
        "web_config": SKIPPED,
        "web_restart": SKIPPED,
    }
    options = {"origins": ["http://localhost:3000"], "proxy_path": "/api/", "web_enabled": True}
    report = build("cors", results, options)
    assert report["done"] == [
        "set CORS_ALLOWED_ORIGINS in .env",
        "restarted alldata-api (it reads the allowed origins at start)",
        "the preflight from http://localhost:3000 passes on alldata-api",
        "bisheng-api read no CORS origin setting: a browser reaches it through the front end's same-origin proxy "
        "(the manual's remedies 1 and 3)",
        "web proxies /api/ to the API",
    ]
    unrouted = {
        "ok": False,
        "problems": ["web does not proxy /api/"],
        "http": {"proxy": {"routed": False}},
        "config": {"site": "/etc/nginx/conf.d/default.conf"},
    }
    broken = build("cors", {**results, "web_after": unrouted}, options)
    assert broken["failed"] and broken["left"][-1].startswith(
        "no known-good nginx config was kept to put back: restore the location /api/ block in "
        "/etc/nginx/conf.d/default.conf"
    )
    no_web = build("cors", {**results, "web_before": None, "web_after": unrouted}, {**options, "web_enabled": False})
    assert not no_web["failed"] and "web proxies /api/ to the API" not in no_web["done"]
