"""Unpack the Milvus binary from PyPI's "milvus" wheel and render its config.

The wheel ships lzma-compressed binaries and a config template with
``{{ key(type): default }}`` placeholders (its own tiny template language).
"""
import lzma
import pathlib
import re
import sys
import zipfile

VALUES = {
    "etcd_data_dir": "/var/lib/milvus/etcd",
    "local_storage_dir": "/var/lib/milvus/data",
    "rocksmq_data_dir": "/var/lib/milvus/rdb_data",
    "system_log_path": "",
}
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*(?:\([a-z]+\))?\s*(?::\s*([^}]*?))?\s*\}\}")


def render(template: str) -> str:
    def value(match: re.Match) -> str:
        key, default = match.group(1), match.group(2)
        if key in VALUES:
            return VALUES[key]
        if default is None:
            raise SystemExit(f"no value for {key}")
        return default.strip()

    return PLACEHOLDER.sub(value, template)


def main(wheel: str, dest: str) -> None:
    root = pathlib.Path(dest)
    (root / "bin").mkdir(parents=True, exist_ok=True)
    (root / "configs").mkdir(exist_ok=True)
    with zipfile.ZipFile(wheel) as whl:
        for name in whl.namelist():
            if name.startswith("milvus/data/bin/") and name.endswith(".lzma"):
                target = root / "bin" / pathlib.Path(name).name[: -len(".lzma")]
                target.write_bytes(lzma.decompress(whl.read(name)))
                target.chmod(0o755)
        template = whl.read("milvus/data/config.yaml.template").decode()
        (root / "configs" / "glog.conf").write_bytes(whl.read("milvus/data/glog.conf"))
    (root / "configs" / "milvus.yaml").write_text(render(template))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
