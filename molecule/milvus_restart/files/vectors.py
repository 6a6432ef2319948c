"""Seed, or snapshot, the vectors the milvus_restart scenario protects.

Run inside bisheng-api through the manual's interface: `python - seed|snapshot`.
Prints {"rows": {collection: count}, "search": [ids of the 5 nearest to one vector]}.
"""

import json
import random
import sys

sys.path[:0] = ["/app/src", "/app"]  # where the API keeps its modules (/app/src in the second layout)
from services import VectorStore  # noqa: E402

NAME = "ods_fix_docs"
rng = random.Random(7)
vectors = [[rng.random() for _ in range(16)] for _ in range(500)]
store = VectorStore()
if sys.argv[1] == "seed":
    store.insert(NAME, [f"doc {i}" for i in range(500)], vectors, [{"n": i} for i in range(500)])
rows = {name: store.count(name) for name in store.list_collections()}
print(json.dumps({"rows": rows, "search": [hit["id"] for hit in store.search(NAME, vectors[42], limit=5)]}))
