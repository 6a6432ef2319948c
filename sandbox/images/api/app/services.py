"""bisheng-api's vector store: `from services import VectorStore` (as in the manual)."""
from __future__ import annotations

from typing import Any

from pymilvus import DataType, MilvusClient

from settings import settings

TEXT_MAX = 65535


class VectorStore:
    def __init__(self, host: str | None = None, port: str | None = None, timeout: float = 10.0):
        host = host or settings.get("MILVUS_HOST")
        port = port or settings.get("MILVUS_PORT")
        self.client = MilvusClient(uri=f"http://{host}:{port}", timeout=timeout)

    def list_collections(self) -> list[str]:
        return sorted(self.client.list_collections())

    def ensure_collection(self, name: str, dim: int) -> None:
        if self.client.has_collection(name):
            return
        schema = self.client.create_schema(auto_id=True, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("text", DataType.VARCHAR, max_length=TEXT_MAX)
        schema.add_field("embedding", DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("metadata", DataType.JSON)
        index = self.client.prepare_index_params()
        index.add_index("embedding", index_type="HNSW", metric_type="L2", params={"M": 16, "efConstruction": 64})
        self.client.create_collection(name, schema=schema, index_params=index)

    def insert(self, name: str, texts: list[str], embeddings: list[list[float]],
               metadata_list: list[dict[str, Any]] | None = None) -> list[int]:
        if not texts:
            return []
        metadata_list = metadata_list or [{} for _ in texts]
        self.ensure_collection(name, len(embeddings[0]))
        rows = [{"text": t, "embedding": e, "metadata": m} for t, e, m in zip(texts, embeddings, metadata_list)]
        result = self.client.insert(name, rows)
        self.client.flush(name)
        return list(result["ids"])

    def search(self, name: str, vector: list[float], limit: int = 5) -> list[dict[str, Any]]:
        self.client.load_collection(name)
        hits = self.client.search(name, [vector], limit=limit, output_fields=["text", "metadata"])
        return [{"id": h["id"], "distance": h["distance"], **h["entity"]} for h in hits[0]]

    def count(self, name: str) -> int:
        return int(self.client.get_collection_stats(name)["row_count"])
