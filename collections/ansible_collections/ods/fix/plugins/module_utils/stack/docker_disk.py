# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Docker's own disk: the free space of the filesystem that holds its root directory, and what `docker system df`
says can be reclaimed, by kind.

Two kinds can be taken back without a second thought: the build cache no build uses, and dangling images
(untagged, in no container's use); the next build makes both again. Tagged images, stopped containers and volumes
are named with their sizes, for the user to judge: a volume holds data, an image may be one nobody can build again.
diagnose reports; nothing here deletes anything.

Stdlib only: the engine's `info` and `df` answers come in as dicts.
"""

import os

MIB = 1048576.0
# Below either, a container's next write, a pull or a build can fail with "no space left on device".
MIN_FREE_MB = 2048
MIN_FREE_PERCENT = 5.0
PRUNE = "docker builder prune && docker image prune"  # the build cache no build uses, and dangling images only


def local_engine(docker_host):
    """Whether the engine runs on this host (its root directory is then this host's to measure)."""
    return not docker_host or docker_host.startswith("unix://")


def usage(path):
    """{path, free_mb, total_mb, free_percent} of the filesystem holding path (as `df` says), or None if it is
    not on this host (an engine reached over the network)."""
    try:
        stat = os.statvfs(path)
    except OSError:
        return None
    total = stat.f_blocks * stat.f_frsize
    free = stat.f_bavail * stat.f_frsize
    return {
        "path": path,
        "free_mb": round(free / MIB, 1),
        "total_mb": round(total / MIB, 1),
        "free_percent": round(100.0 * free / total, 1) if total else 0.0,
    }


def _tagged(image):
    return any(tag and tag != "<none>:<none>" for tag in image.get("RepoTags") or [])


def _own_size(image):
    shared = image.get("SharedSize") or 0
    return max((image.get("Size") or 0) - (shared if shared > 0 else 0), 0)


def reclaimable(df):
    """What `docker system df` counts as reclaimable, by kind, in MiB; what prune takes is the first two."""
    images = [i for i in df.get("Images") or [] if (i.get("Containers") or 0) <= 0]
    dangling = [i for i in images if not _tagged(i)]
    cache = [c for c in df.get("BuildCache") or [] if not c.get("InUse")]
    volumes = [v for v in df.get("Volumes") or [] if ((v.get("UsageData") or {}).get("RefCount") or 0) <= 0]
    stopped = [c for c in df.get("Containers") or [] if c.get("State") != "running"]
    return {
        "build_cache_mb": round(sum(c.get("Size") or 0 for c in cache) / MIB, 1),
        "dangling_images": len(dangling),
        "dangling_images_mb": round(sum(_own_size(i) for i in dangling) / MIB, 1),
        "unused_images_mb": round(sum(_own_size(i) for i in images if _tagged(i)) / MIB, 1),
        "unused_volumes": len(volumes),
        "unused_volumes_mb": round(sum(max((v.get("UsageData") or {}).get("Size") or 0, 0) for v in volumes) / MIB, 1),
        "stopped_containers_mb": round(sum(c.get("SizeRw") or 0 for c in stopped) / MIB, 1),
    }


def low(disk, min_free_mb=MIN_FREE_MB, min_free_percent=MIN_FREE_PERCENT):
    return disk is not None and (disk["free_mb"] < min_free_mb or disk["free_percent"] < min_free_percent)


def size(mb):
    return f"{mb / 1024:.1f} GiB" if mb >= 1024 else f"{mb:.0f} MiB"


def describe(disk, found, min_free_mb=MIN_FREE_MB, min_free_percent=MIN_FREE_PERCENT):
    """One line: how full it is, against which floor, what prune would take back, and what it leaves."""
    line = "Docker's disk ({}) has {} free of {} ({}%), below {} or {}%".format(
        disk["path"], size(disk["free_mb"]), size(disk["total_mb"]), disk["free_percent"], size(min_free_mb),
        min_free_percent,
    )  # fmt: skip
    prunable = found["build_cache_mb"] + found["dangling_images_mb"]
    if prunable:
        line += "; `{}` take back {} (build cache {}, {} dangling images {})".format(
            PRUNE, size(prunable), size(found["build_cache_mb"]), found["dangling_images"],
            size(found["dangling_images_mb"]),
        )  # fmt: skip
    else:
        line += "; no build cache or dangling image to take back"
    kept = [
        f"{what} {size(found[key])}"
        for what, key in (
            ("unused tagged images", "unused_images_mb"),
            ("stopped containers", "stopped_containers_mb"),
            ("unused volumes", "unused_volumes_mb"),
        )
        if found[key]
    ]
    if kept:
        line += "; for you to judge (never pruned by ods-fix): " + ", ".join(kept)
    return line
