"""A container killed for memory or in a restart loop: how often, its limit and where it is set (pure logic)."""

from __future__ import annotations

from typing import Any

from ansible_collections.ods.fix.plugins.module_utils.stack import restarts


def attrs(
    status: str = "exited", oom: bool = False, restarts_: int = 0, limit: int = 0, code: int = 137
) -> dict[str, Any]:
    return {
        "State": {"Status": status, "OOMKilled": oom, "ExitCode": code},
        "RestartCount": restarts_,
        "HostConfig": {"Memory": limit, "RestartPolicy": {"Name": "unless-stopped" if restarts_ else ""}},
    }


def test_a_healthy_container_or_a_restart_or_two_is_nothing() -> None:
    assert restarts.judge("redis", attrs("running", code=0), "") is None
    assert restarts.judge("redis", attrs("running", restarts_=2, code=0), "") is None


def test_killed_for_memory_under_its_limit_names_the_limit_and_where_to_raise_it() -> None:
    item = restarts.judge("redis", attrs(oom=True, limit=24 * 1048576), "docker-compose.yml:31")
    assert item is not None and item["limit_mb"] == 24.0 and item["now_mb"] is None
    assert restarts.describe(item) == (
        "redis was killed for lack of memory (OOM, exit code 137): its memory limit is 24.0 MiB, set at "
        "docker-compose.yml:31; raise it there (a restart alone lasts until it fills up again)"
    )


def test_killed_for_memory_with_no_limit_of_its_own_is_the_host_s_memory() -> None:
    item = restarts.judge("mysql", attrs(oom=True), "")
    assert item is not None
    assert "no memory limit of its own, so the host ran out of memory" in restarts.describe(item)


def test_a_running_container_restarted_by_its_policy_says_how_often_and_what_it_uses() -> None:
    usage = {"mem_mb": 20.5, "peak_mb": 23.9}
    item = restarts.judge("redis", attrs("running", oom=True, restarts_=4, limit=24 * 1048576, code=0), "", usage)
    assert item is not None
    assert restarts.describe(item) == (
        "redis was killed for lack of memory (OOM; it runs again), restarted 4 times by its restart policy "
        "(unless-stopped): its memory limit is 24.0 MiB (20.5 MiB now, 23.9 MiB at its peak), set outside the "
        "compose files (by docker update); raise it there (a restart alone lasts until it fills up again)"
    )


def test_a_restart_loop_without_memory_points_at_the_log() -> None:
    item = restarts.judge("web", attrs("restarting", restarts_=7, code=1), "")
    assert item is not None and not item["oom_killed"]
    assert restarts.describe(item) == (
        "web keeps exiting (last exit code 1), restarted 7 times by its restart policy (unless-stopped): its log "
        "says why it exits; restarting it again is no fix by itself"
    )


def test_a_restart_loop_quotes_the_last_lines_its_log_says_something_on() -> None:
    log = (
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n"
        ">>> 'maxmemory-policy \"no-such-policy\"'\n  \nargument(s) must be one of the following: " + "x" * 300 + "\n\n"
    )
    said = restarts.last_lines(log)
    assert said[:2] == ["Reading the configuration file, at line 2", ">>> 'maxmemory-policy \"no-such-policy\"'"]
    assert len(said) == 3 and len(said[2]) == restarts.LOG_WIDTH and said[2].endswith("...")
    item = restarts.judge("redis", attrs("restarting", restarts_=5, code=1), "")
    assert item is not None
    item["last_log"] = said[:2]
    assert restarts.describe(item) == (
        "redis keeps exiting (last exit code 1), restarted 5 times by its restart policy (unless-stopped): its log's "
        "last lines: Reading the configuration file, at line 2 | >>> 'maxmemory-policy \"no-such-policy\"'; "
        "restarting it again is no fix by itself"
    )
    assert restarts.last_lines("\n \n") == []
