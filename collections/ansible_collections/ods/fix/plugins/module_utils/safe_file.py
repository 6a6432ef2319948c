# Copyright: ods-fix contributors
# Apache License 2.0 (see LICENSE)
"""Replace a file atomically, keeping its owner and mode, after a private backup.

The backup is <file>.ods-fix-backup-YYYYMMDD-HHMMSS, mode 0600, beside the file or, with a directory, in it
(<directory>/<name>.<hash of the file's path>.ods-fix-backup-...): a settings file's old secrets kept where
no container that mounts the file's directory can read them. Only the newest `keep` backups are kept. The
new content goes to a temporary file in the same directory, is fsynced, and renamed over the old one, so a
reader (or a crash) sees the old file or the new one, never half of each.
"""

import contextlib
import glob
import hashlib
import os
import shutil
import tempfile
import time

BACKUP_SUFFIX = ".ods-fix-backup-"


def backup(path, keep=10, directory=None):
    stat = os.stat(path)
    base = path
    if directory:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        where = hashlib.sha1(os.path.abspath(path).encode("utf-8")).hexdigest()[:10]
        base = os.path.join(directory, f"{os.path.basename(path)}.{where}")
    target = "{}{}{}".format(base, BACKUP_SUFFIX, time.strftime("%Y%m%d-%H%M%S"))
    counter = 1
    while os.path.exists(target):
        target = "%s%s%s-%d" % (base, BACKUP_SUFFIX, time.strftime("%Y%m%d-%H%M%S"), counter)
        counter += 1
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out, open(path, "rb") as source:
        shutil.copyfileobj(source, out)
    with contextlib.suppress(OSError):  # not root: the backup stays the caller's, still 0600
        os.chown(target, stat.st_uid, stat.st_gid)
    backups = sorted(glob.glob(glob.escape(base) + BACKUP_SUFFIX + "*"))
    for old in backups[:-keep] if keep > 0 else []:
        os.unlink(old)
    return target


def replace(path, text, mode=0o600):
    """Write text (str or bytes) to path atomically, with the old file's owner and mode, or mode for a new one."""
    stat = os.stat(path) if os.path.exists(path) else None
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=".ods-fix-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text if isinstance(text, bytes) else text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, stat.st_mode & 0o7777 if stat else mode)
        if stat:
            with contextlib.suppress(OSError):
                os.chown(temp, stat.st_uid, stat.st_gid)
        os.rename(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
