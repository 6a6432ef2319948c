"""Seed, damage or snapshot the collections the Milvus backup scenarios protect.

Run inside bisheng-api through the manual's interface: `python - seed|damage|mismatch|snapshot`.
Prints {"rows": {collection: count}, "collections": [...], "nearest": text of the nearest row to
kb_docs' vector 42}.
"""

import json
import random
import sys

sys.path[:0] = ["/app/src", "/app"]  # where the API keeps its modules (/app/src in the second layout)
from services import VectorStore  # noqa: E402

rng = random.Random(11)
DOCS = [[rng.random() for _ in range(64)] for _ in range(1500)]
FAQ = [[rng.random() for _ in range(32)] for _ in range(120)]
store = VectorStore()
action = sys.argv[1]
if action == "seed":
    # Two inserts each, as an application adds documents over time.
    for part in (slice(0, 900), slice(900, 1500)):
        numbers = range(1500)[part]
        store.insert(
            "kb_docs",
            [f"文档 {i}: 向量数据恢复 chunk" for i in numbers],
            DOCS[part],
            [{"n": i, "source": f"file-{i % 9}.pdf", "tags": ["a", "b"][: i % 3]} for i in numbers],
        )
    store.insert("kb_faq", [f"faq {i}" for i in range(120)], FAQ, [{"q": i} for i in range(120)])
elif action == "damage":
    store.client.drop_collection("kb_faq")
    store.insert("kb_docs", [f"stray {i}" for i in range(10)], DOCS[:10], [{} for _ in range(10)])
elif action == "mismatch":
    store.client.drop_collection("kb_faq")
    store.insert("kb_faq", ["other model"], [[0.5] * 16], [{}])
names = store.list_collections()
nearest = store.search("kb_docs", DOCS[42], limit=1)[0]["text"] if "kb_docs" in names else None
print(json.dumps({"rows": {name: store.count(name) for name in names}, "collections": names, "nearest": nearest}))
