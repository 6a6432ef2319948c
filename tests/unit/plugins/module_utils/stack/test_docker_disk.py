"""Docker's own disk: how full, and what `docker system df` counts as reclaimable (pure logic; the engine's
answers shaped as the Engine API documents GET /system/df)."""

from __future__ import annotations

from pathlib import Path

from ansible_collections.ods.fix.plugins.module_utils.stack import docker_disk

MIB = 1048576
DF = {
    "Images": [
        {"RepoTags": ["ods/api:latest"], "Containers": 1, "Size": 500 * MIB, "SharedSize": 100 * MIB},
        {"RepoTags": ["ods/old:1"], "Containers": 0, "Size": 300 * MIB, "SharedSize": 100 * MIB},
        {"RepoTags": ["<none>:<none>"], "Containers": 0, "Size": 250 * MIB, "SharedSize": 100 * MIB},
        {"RepoTags": None, "Containers": 0, "Size": 50 * MIB, "SharedSize": -1},
    ],
    "BuildCache": [{"Size": 700 * MIB, "InUse": False}, {"Size": 10 * MIB, "InUse": True}],
    "Volumes": [
        {"Name": "mysql", "UsageData": {"RefCount": 1, "Size": 900 * MIB}},
        {"Name": "old-data", "UsageData": {"RefCount": 0, "Size": 400 * MIB}},
    ],
    "Containers": [{"State": "exited", "SizeRw": 30 * MIB}, {"State": "running", "SizeRw": 5 * MIB}],
}


def test_reclaimable_counts_as_docker_system_df_does() -> None:
    assert docker_disk.reclaimable(DF) == {
        "build_cache_mb": 700.0,
        "dangling_images": 2,
        "dangling_images_mb": 200.0,  # their own layers: 150 + 50 (no SharedSize known)
        "unused_images_mb": 200.0,
        "unused_volumes": 1,
        "unused_volumes_mb": 400.0,
        "stopped_containers_mb": 30.0,
    }
    assert docker_disk.reclaimable({})["build_cache_mb"] == 0.0  # an engine that lists no build cache (the old builder)


def test_low_below_either_floor() -> None:
    disk = {"path": "/var/lib/docker", "free_mb": 1500.0, "total_mb": 100000.0, "free_percent": 1.5}
    assert docker_disk.low(disk) and docker_disk.low(dict(disk, free_mb=3000.0))  # 1.5 % is below 5 %
    assert not docker_disk.low(dict(disk, free_mb=30000.0, free_percent=30.0)) and not docker_disk.low(None)


def test_the_line_says_how_full_what_the_prune_commands_take_back_and_what_is_for_the_user() -> None:
    disk = {"path": "/var/lib/docker", "free_mb": 1536.0, "total_mb": 51200.0, "free_percent": 3.0}
    assert docker_disk.describe(disk, docker_disk.reclaimable(DF)) == (
        "Docker's disk (/var/lib/docker) has 1.5 GiB free of 50.0 GiB (3.0%), below 2.0 GiB or 5.0%; "
        "`docker builder prune && docker image prune` take back 900 MiB (build cache 700 MiB, 2 dangling images "
        "200 MiB); for you to judge (never pruned by ods-fix): unused tagged images 200 MiB, stopped containers "
        "30 MiB, unused volumes 400 MiB"
    )
    nothing = docker_disk.reclaimable({})
    assert docker_disk.describe(disk, nothing).endswith("; no build cache or dangling image to take back")


def test_usage_is_what_statvfs_says_of_the_filesystem(tmp_path: Path) -> None:
    found = docker_disk.usage(str(tmp_path))
    assert found is not None and found["path"] == str(tmp_path)
    assert 0 < found["free_mb"] <= found["total_mb"] and 0 <= found["free_percent"] <= 100
    assert docker_disk.usage(str(tmp_path / "not-here")) is None


def test_only_an_engine_on_this_host_has_its_disk_measured_here() -> None:
    assert docker_disk.local_engine("") and docker_disk.local_engine("unix:///var/run/docker.sock")
    assert not docker_disk.local_engine("tcp://10.0.0.5:2376") and not docker_disk.local_engine("ssh://dev@box")
