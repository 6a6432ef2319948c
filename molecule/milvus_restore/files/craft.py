"""Write a copy of a vector backup whose kb_docs index Milvus refuses, its manifest made consistent.

`python3 craft.py IN OUT`: the copy passes every check of the file (checksums, shapes, rows), so the
restore gets as far as Milvus and fails there: the test of "a failed restore puts the old one back".
"""

import hashlib
import io
import json
import sys
import tarfile

source, target = sys.argv[1], sys.argv[2]
with tarfile.open(source) as tar:
    members = [(m, tar.extractfile(m).read()) for m in tar.getmembers() if m.isfile()]
files = dict((m.name, data) for m, data in members)
schema = json.loads(files["kb_docs/schema.json"])
schema["indexes"][0]["index_type"] = "NO_SUCH_INDEX"
files["kb_docs/schema.json"] = json.dumps(schema).encode()
manifest = json.loads(files["manifest.json"])
for entry in manifest["collections"]:
    for name in entry["files"]:
        entry["files"][name] = hashlib.sha256(files[name]).hexdigest()
files["manifest.json"] = json.dumps(manifest).encode()
with tarfile.open(target, "w") as out:
    for member, _ in members:
        member.size = len(files[member.name])
        out.addfile(member, io.BytesIO(files[member.name]))
