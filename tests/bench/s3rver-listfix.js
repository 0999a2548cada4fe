// s3rver-listfix.js - preloaded into tests/s3/s3rver-run.js by the bench
// (node -r THIS s3rver-run.js --modules DIR ...), so that s3fs and rclone
// can list what they wrote.
//
// s3rver 3.7.1 answers ListObjects with a delimiter by walking its object
// directories, but it never descends into a directory below the next
// level: a common prefix whose objects all sit two or more levels down
// ("a/b/c/f" listed with prefix "a/") is never reported.  rclone 1.60 makes
// no directory marker objects, so a tree it copies in vanishes from its
// own listing after a remount.  This adds those common prefixes: for each
// subdirectory of the listed level that holds an object at any depth.
'use strict';
const fs = require('fs');
const path = require('path');

const argv = process.argv;
const at = argv.indexOf('--modules');
if (at !== -1 && argv[at + 1]) {
  const mod = path.join(argv[at + 1], 'node_modules', 's3rver');
  const FilesystemStore = require(path.join(mod, 'lib', 'stores', 'filesystem'));
  const OBJECT_SUFFIX = '._S3rver_object';

  const holdsObject = (dir) => {
    let names;
    try {
      names = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      return false;
    }
    for (const d of names) {
      if (!d.isDirectory() && d.name.endsWith(OBJECT_SUFFIX)) return true;
    }
    return names.some((d) => d.isDirectory() && holdsObject(path.join(dir, d.name)));
  };

  const listObjects = FilesystemStore.prototype.listObjects;
  FilesystemStore.prototype.listObjects = async function (bucket, options) {
    const res = await listObjects.call(this, bucket, options);
    const delimiter = options.delimiter || '';
    if (delimiter !== '/' || process.platform === 'win32') return res;
    const prefix = options.prefix || '';
    const startAfter = options.startAfter || '';
    const level = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const levelPath = path.join(this.getBucketPath(bucket), level);
    // A truncated page covers keys up to its last one; the next page
    // starts after it, so prefixes beyond it belong to a later page.
    let limit = null;
    if (res.isTruncated) {
      const last = [...res.objects.map((o) => o.key), ...res.commonPrefixes].sort().pop();
      limit = last === undefined ? null : last;
    }
    const have = new Set(res.commonPrefixes);
    let entries;
    try {
      entries = fs.readdirSync(levelPath, { withFileTypes: true });
    } catch (err) {
      return res;
    }
    for (const d of entries) {
      if (!d.isDirectory()) continue;
      const cp = level + d.name + '/';
      if (!cp.startsWith(prefix) || have.has(cp) || cp <= startAfter) continue;
      if (limit !== null && cp > limit) continue;
      if (holdsObject(path.join(levelPath, d.name))) have.add(cp);
    }
    res.commonPrefixes = [...have].sort();
    return res;
  };
}
