// s3rver-run.js - runs the s3rver test server on 127.0.0.1 for the tests:
//   node s3rver-run.js --modules DIR --dir DATA --bucket NAME
//                      --port-file FILE [--port N] [--workers N]
// DIR is where tests/s3/setup.sh installed s3rver.  The access key id the
// tests use comes from the environment (FLEXFS_S3_KEY_ID), never argv;
// s3rver checks only the key id (signatures are checked by sigv4-proxy.py
// in front of it).  Writes the bound port to FILE once it listens.
// s3rver is one JavaScript thread; --workers N runs N copies on the same
// port and directory (node's cluster module), so that a benchmark is not
// bounded by one core of the server.  s3rver keeps every object, upload
// and bucket in the directory, so any worker can answer any request.
'use strict';
const fs = require('fs');
const path = require('path');

const cluster = require('cluster');

const opts = { port: '0', workers: '1' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const name = argv[i].replace(/^--/, '');
  if (argv[i + 1] === undefined) {
    console.error(`s3rver-run: ${argv[i]} needs a value`);
    process.exit(2);
  }
  opts[name] = argv[i + 1];
}
for (const need of ['modules', 'dir', 'bucket', 'port-file']) {
  if (!opts[need]) {
    console.error(`s3rver-run: --${need} is required`);
    process.exit(2);
  }
}
const workers = Number(opts.workers);
if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
  console.error(`s3rver-run: --workers wants 1 to 64, not ${opts.workers}`);
  process.exit(2);
}

function writePortFile(port) {
  const tmp = opts['port-file'] + '.tmp';
  fs.writeFileSync(tmp, String(port) + '\n');
  fs.renameSync(tmp, opts['port-file']);
  console.error(`s3rver-run: listening on 127.0.0.1:${port}, bucket ${opts.bucket}` +
                (workers > 1 ? `, ${workers} workers` : ''));
}

// The primary of a cluster only starts the workers, writes the port file
// once all of them listen (they share one port), and stops them all on
// SIGTERM.  A worker that dies takes the whole server down, so that a
// client sees a dead server, never a slower one.
function runPrimary() {
  let listening = 0;
  let stopping = false;
  const stop = (code) => {
    stopping = true;
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
    const left = () => Object.keys(cluster.workers).length;
    const check = setInterval(() => { if (left() === 0) process.exit(code); }, 50);
    setTimeout(() => { clearInterval(check); process.exit(code); }, 5000).unref();
  };
  cluster.on('message', (worker, msg) => {
    if (msg && msg.port && ++listening === workers) writePortFile(msg.port);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    console.error(`s3rver-run: worker ${worker.process.pid} died (${signal || code})`);
    stop(1);
  });
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  for (let i = 0; i < workers; i++) cluster.fork();
}
function runServer() {
  // s3rver 3.7.1 wraps ListObjectsV2 continuation tokens with DES, which
  // OpenSSL 3 (node >= 17) no longer offers: every truncated listing fails
  // with 500.  The token only needs to round-trip, so 'des' becomes a
  // pass-through here.
  const crypto = require('crypto');
  for (const fn of ['createCipheriv', 'createDecipheriv']) {
    const orig = crypto[fn];
    crypto[fn] = function (alg, ...rest) {
      if (String(alg).toLowerCase() !== 'des') return orig.call(this, alg, ...rest);
      return {
        update: (data, enc) => Buffer.isBuffer(data) ? data : Buffer.from(data, enc),
        final: () => Buffer.alloc(0),
      };
    };
  }

  const mod = path.join(opts.modules, 'node_modules', 's3rver');
  const S3rver = require(mod);
  const AWSAccount = require(path.join(mod, 'lib', 'models', 'account'));
  const FilesystemStore = require(path.join(mod, 'lib', 'stores', 'filesystem'));
  // s3rver 3.7.1 answers a ranged GET of an empty object with 206,
  // "Content-Length: 1" and no body, so the client waits for a byte that
  // never comes.  S3 answers 416 InvalidRange, which s3rver gives when the
  // object has no content stream.
  const getObject = FilesystemStore.prototype.getObject;
  FilesystemStore.prototype.getObject = async function (bucket, key, options) {
    const object = await getObject.call(this, bucket, key, options);
    if (object && object.range && object.content && Number(object.size) === 0) {
      object.content.destroy();
      object.content = null;
    }
    return object;
  };
  const keyId = process.env.FLEXFS_S3_KEY_ID;
  if (keyId) {
    // s3rver knows its own dummy key only; register the test's key id.
    AWSAccount.DUMMY_ACCOUNT.createKeyPair(keyId, 'unused-by-sigv4');
  }
  fs.mkdirSync(opts.dir, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: Number(opts.port),
    directory: opts.dir,
    silent: process.env.FLEXFS_S3RVER_VERBOSE ? false : true,
    vhostBuckets: false,
    configureBuckets: [{ name: opts.bucket }],
  });
  server.run().then((addr) => {
    if (cluster.isWorker) process.send({ port: addr.port });
    else writePortFile(addr.port);
  }).catch((err) => {
    console.error(`s3rver-run: cannot start: ${err.message}`);
    process.exit(1);
  });
  const stop = () => server.close().finally(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // A worker whose primary is gone (even by SIGKILL) stops too.
  if (cluster.isWorker) process.on('disconnect', () => process.exit(0));
}

if (workers > 1 && cluster.isPrimary) runPrimary();
else runServer();
