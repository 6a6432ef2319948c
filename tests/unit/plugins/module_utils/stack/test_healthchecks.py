"""Healthchecks that say nothing (module_utils/stack/healthchecks.py): one that cannot fail, one that cannot pass,
and whether Docker's word misleads now."""

from __future__ import annotations

import pytest
from ansible_collections.ods.fix.plugins.module_utils.stack import healthchecks


@pytest.mark.parametrize(
    ("test", "why"),
    [
        (["CMD-SHELL", "curl -s http://localhost:9091/healthz || exit 1"], "curl without -f"),  # the public ODS milvus
        (["CMD-SHELL", "curl -f http://localhost:8080/health || true"], "ends in `|| true`"),  # its keycloak
        (["CMD-SHELL", "wget -q -O- localhost/ ; exit 0"], "ends in `; exit 0`"),
        (["CMD", "curl", "-s", "http://localhost/"], "curl without -f"),
    ],
)
def test_a_check_that_exits_0_whatever_the_service_answers_cannot_fail(test: list[str], why: str) -> None:
    assert why in healthcheck_reason(test)


@pytest.mark.parametrize(
    "test",
    [
        ["CMD-SHELL", "curl -fsS -o /dev/null http://127.0.0.1:8080/api/v1/health || exit 1"],
        ["CMD-SHELL", "curl -s http://localhost/health | grep -q ok"],  # the pipe decides
        ["CMD", "curl", "--fail", "http://localhost/"],
        ["CMD-SHELL", "mysqladmin ping -h localhost"],
        ["NONE"],
        [],
    ],
)
def test_a_check_that_can_fail_is_not_named(test: list[str]) -> None:
    assert healthcheck_reason(test) == ""


def healthcheck_reason(test: list[str]) -> str:
    return healthchecks.cannot_fail(test)


def state(status: str, output: str = "", code: int = 0) -> dict[str, object]:
    return {"Health": {"Status": status, "Log": [{"ExitCode": code, "Output": output}]}}


def test_a_check_whose_program_is_not_in_the_image_cannot_pass_and_docker_misleads_while_it_answers() -> None:
    missing = 'OCI runtime exec failed: exec: "curl": executable file not found in $PATH: unknown'
    item = healthchecks.judge("data-api", ["CMD", "curl", "-f", "x"], state("unhealthy", missing, 127), 200, "f.yml:9")
    assert item is not None and item["kind"] == "cannot pass" and item["why"] == "curl is not in the image"
    assert item["misleads"]
    assert healthchecks.describe(item) == (
        "data-api: Docker says it is unhealthy, and it answers 200; its healthcheck cannot pass: curl is not in the "
        "image (change it at f.yml:9)"
    )
    shell = healthchecks.judge(
        "a", ["CMD-SHELL", "curl -f x"], state("starting", "/bin/sh: 1: curl: not found", 127), None, ""
    )
    assert shell is not None and shell["why"] == "curl is not in the image" and not shell["misleads"]


def test_docker_healthy_while_the_service_answers_503_misleads_and_a_check_that_works_says_nothing_here() -> None:
    lying = healthchecks.judge("api", ["CMD-SHELL", "python -c 'x' || true"], state("healthy"), 503, "f.yml:3")
    assert lying is not None and lying["kind"] == "cannot fail" and lying["misleads"]
    honest = healthchecks.judge(
        "api", ["CMD-SHELL", "curl -f x || exit 1"], state("unhealthy", "HTTP 503", 22), 503, ""
    )
    assert honest is None
