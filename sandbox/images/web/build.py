"""Build the sandbox front end: fingerprint assets and rewrite index.html.

src/index.html refers to /src/<name>; the build writes dist/assets/<stem>-<hash>.<ext>
(like Vite) and points index.html at them.
"""
import hashlib
import pathlib
import re
import shutil
import sys


def build(src: pathlib.Path, dist: pathlib.Path) -> None:
    if dist.exists():
        shutil.rmtree(dist)
    (dist / "assets").mkdir(parents=True)
    html = (src / "index.html").read_text(encoding="utf-8")
    for ref in sorted(set(re.findall(r'"/src/([\w.-]+)"', html))):
        data = (src / ref).read_bytes()
        stem, ext = ref.rsplit(".", 1)
        name = f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}.{ext}"
        (dist / "assets" / name).write_bytes(data)
        html = html.replace(f'"/src/{ref}"', f'"/assets/{name}"')
    (dist / "index.html").write_text(html, encoding="utf-8")
    for extra in src.glob("*.ico"):
        shutil.copy(extra, dist / extra.name)
    print(f"built {dist}: {sorted(p.name for p in (dist / 'assets').iterdir())}")


if __name__ == "__main__":
    build(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]))
