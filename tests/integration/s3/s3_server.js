// A real S3-compatible server for the tests: s3rver (npm), with AWS
// Signature Version 4 checked in front of it. s3rver 3.7 only looks up the
// access key of a v4 request ("Signature version 4 calculation is
// unimplemented" in its authentication middleware), so a wrong secret would
// pass; this check, written from AWS's description independently of
// serval's C++ signer, refuses it with SignatureDoesNotMatch as S3 does.
//
// usage: node s3_server.js <port> <directory> <access key> <secret>
// Prints "ready <port>" when it listens; stops on SIGTERM.
'use strict';
const crypto = require('crypto');
const path = require('path');
const S3rver = require(path.join(process.env.S3RVER_MODULES || '', 's3rver'));

const [port, directory, accessKey, secret] = process.argv.slice(2);

const sha256 = data => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();
const encode = s =>
  encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());

function refuse(ctx, code, message) {
  ctx.status = 403;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
    `<Message>${message}</Message></Error>`;
}

async function verify(ctx, next) {
  const auth = ctx.get('authorization');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return refuse(ctx, 'AccessDenied', 'Anonymous or malformed authorization');
  const [, keyId, date, region, signedHeaders, signature] = m;
  if (keyId !== accessKey) {
    return refuse(ctx, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  }
  const raw = ctx.req.url;
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const canonicalPath = rawPath.split('/').map(p => encode(decodeURIComponent(p))).join('/');
  const query = q < 0 ? [] : raw.slice(q + 1).split('&').filter(Boolean).map(kv => {
    const i = kv.indexOf('=');
    const k = decodeURIComponent((i < 0 ? kv : kv.slice(0, i)).replace(/\+/g, '%20'));
    const v = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1).replace(/\+/g, '%20'));
    return [encode(k), encode(v)];
  }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
  const headers = signedHeaders.split(';').map(h =>
    `${h}:${String(ctx.get(h)).trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonical = [ctx.method, canonicalPath, query.map(p => p.join('=')).join('&'),
    headers, signedHeaders, ctx.get('x-amz-content-sha256') || 'UNSIGNED-PAYLOAD'].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', ctx.get('x-amz-date'), scope, sha256(canonical)].join('\n');
  let key = hmac('AWS4' + secret, date);
  key = hmac(key, region);
  key = hmac(key, 's3');
  key = hmac(key, 'aws4_request');
  const expected = hmac(key, toSign).toString('hex');
  if (!crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    return refuse(ctx, 'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.');
  }
  return next();
}

// s3rver's own registry must know the key too.
require(path.join(process.env.S3RVER_MODULES || '', 's3rver/lib/models/account'))
  .DUMMY_ACCOUNT.createKeyPair(accessKey, secret);
const server = new S3rver({ port: Number(port), address: '127.0.0.1', directory, silent: true });
server.middleware.unshift(verify);
server.run().then(() => {
  process.stdout.write(`ready ${port}\n`);
});
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
