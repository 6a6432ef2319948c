// milvus-minio for the sandbox: s3rver on :9000, data in /data, one bucket.
'use strict';

// Debian's node 18 lacks the ES2023 array copies that s3rver 5 calls.
for (const [name, impl] of Object.entries({
  toSorted(compare) { return [...this].sort(compare); },
  toReversed() { return [...this].reverse(); },
  toSpliced(...args) { const copy = [...this]; copy.splice(...args); return copy; },
})) {
  if (!Array.prototype[name]) {
    Object.defineProperty(Array.prototype, name, { value: impl, writable: true, configurable: true });
  }
}

const S3rver = require('@20minutes/s3rver');
const { DUMMY_ACCOUNT } = require('@20minutes/s3rver/lib/models/account');

const accessKey = process.env.MINIO_ROOT_USER || process.env.MINIO_ACCESS_KEY || 'minioadmin';
const secretKey = process.env.MINIO_ROOT_PASSWORD || process.env.MINIO_SECRET_KEY || 'minioadmin';
DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey);

const server = new S3rver({
  address: '0.0.0.0',
  port: 9000,
  directory: '/data',
  silent: false,
  vhostBuckets: false,
  // Milvus's minio-go client signs chunked uploads in a way s3rver does not verify.
  allowMismatchedSignatures: true,
  configureBuckets: [{ name: process.env.MINIO_BUCKET || 'a-bucket' }],
});

// MinIO's liveness endpoint, answered before s3rver's logger and router.
server.middleware.unshift(async (ctx, next) => {
  if (ctx.path === '/minio/health/live') {
    ctx.status = 200;
    return;
  }
  await next();
});

server.run().then(() => console.log('milvus-minio listening on 0.0.0.0:9000'));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close().then(() => process.exit(0)));
}
