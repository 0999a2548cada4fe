#!/usr/bin/env python3
"""sigv4-proxy.py - a verifying HTTP proxy in front of an S3 test server.

s3rver accepts any SigV4 signature, so it cannot catch a signing bug.  This
proxy recomputes the AWS Signature Version 4 of every request from the known
secret, exactly as S3 does (canonical URI and query from the decoded request,
signed headers, the x-amz-content-sha256 payload hash, which must also match
the body), and answers 403 SignatureDoesNotMatch when it differs.  Good
requests go on to the server unchanged.

It also injects faults on command, through control requests on its own port
(GET /__ctl/...; these need no signature):
  /__ctl/fail?n=N&status=S   answer status S (default 503) to the next N requests
               [&match=TEXT]  (with match: only to requests whose path holds TEXT)
  /__ctl/down?n=N            close the next N requests without an answer
                             (n=-1: until /__ctl/up)
  /__ctl/delay?ms=M          hold every request M ms before it goes on
  /__ctl/up                  clear faults
  /__ctl/stats               JSON counters (connections, requests, verified,
                             bad_signature, faults, dropped, methods)
  /__ctl/reset               zero the counters

Usage: sigv4-proxy.py --upstream HOST:PORT --credentials FILE
                      [--listen 127.0.0.1:0] [--port-file FILE] [--region R]
                      [--vhost-domain localhost]
With --vhost-domain, virtual-host requests (Host: BUCKET.localhost, which
curl resolves to loopback by itself) are passed on path-style.
FILE is an AWS-style credentials file ([default] aws_access_key_id,
aws_secret_access_key): the secret never goes on a command line.
Python standard library only.
"""

import argparse
import configparser
import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import base64
import os
import re
import socket
import sys
import threading
import time
import urllib.parse

AUTH_RE = re.compile(
    r'^AWS4-HMAC-SHA256 Credential=([^/,]+)/(\d{8})/([^/,]+)/([^/,]+)/aws4_request,'
    r' ?SignedHeaders=([a-z0-9;.-]+), ?Signature=([0-9a-f]{64})$')
HOP_BY_HOP = {'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer',
              'transfer-encoding', 'upgrade', 'expect', 'content-length'}


class State:
    """Faults and counters, shared by the handler threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.fail_n = 0
        self.fail_status = 503
        self.fail_match = ''
        self.down_n = 0
        self.delay_ms = 0
        self.stats = {'connections': 0, 'requests': 0, 'verified': 0, 'bad_signature': 0,
                      'bad_request': 0, 'faults': 0, 'dropped': 0,
                      'methods': {}}

    def count(self, name, n=1):
        with self.lock:
            self.stats[name] += n

    def take_fault(self, path):
        """Returns ('down', None), ('fail', status) or (None, None)."""
        with self.lock:
            if self.down_n != 0:
                if self.down_n > 0:
                    self.down_n -= 1
                self.stats['dropped'] += 1
                return 'down', None
            if self.fail_n > 0 and self.fail_match in path:
                self.fail_n -= 1
                self.stats['faults'] += 1
                return 'fail', self.fail_status
        return None, None


def s3_error_xml(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
            '<Message>%s</Message></Error>' % (code, message)).encode()


def uri_encode(s, keep_slash):
    return urllib.parse.quote(s, safe='/~' if keep_slash else '~')


def canonical_query(query):
    if not query:
        return ''
    params = []
    for part in query.split('&'):
        if part == '':
            continue
        name, _, value = part.partition('=')
        params.append((uri_encode(urllib.parse.unquote(name), False),
                       uri_encode(urllib.parse.unquote(value), False)))
    params.sort()
    return '&'.join('%s=%s' % p for p in params)


def signing_key(secret, date, region, service):
    k = ('AWS4' + secret).encode()
    for part in (date, region, service, 'aws4_request'):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


class Verifier:
    def __init__(self, key_id, secret, region):
        self.key_id = key_id
        self.secret = secret
        self.region = region

    def check(self, method, target, headers, body):
        """Returns None when the request is signed right, else
        (status, code, message, detail)."""
        auth = headers.get('Authorization')
        if not auth:
            return 403, 'AccessDenied', 'Anonymous access is forbidden', ''
        m = AUTH_RE.match(auth)
        if not m:
            return 400, 'AuthorizationHeaderMalformed', 'bad Authorization header', auth
        key_id, date, region, service, signed, signature = m.groups()
        if key_id != self.key_id:
            return 403, 'InvalidAccessKeyId', 'unknown access key id', ''
        if service != 's3':
            return 400, 'AuthorizationHeaderMalformed', 'service must be s3', service
        if self.region and region != self.region:
            return 400, 'AuthorizationHeaderMalformed', 'wrong region', region
        amzdate = headers.get('x-amz-date', '')
        try:
            when = datetime.datetime.strptime(amzdate, '%Y%m%dT%H%M%SZ').replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            return 403, 'AccessDenied', 'missing or bad x-amz-date', amzdate
        if amzdate[:8] != date:
            return 403, 'SignatureDoesNotMatch', 'credential date differs from x-amz-date', ''
        skew = abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds())
        if skew > 900:
            return 403, 'RequestTimeTooSkewed', 'request time too skewed', str(skew)
        payload = headers.get('x-amz-content-sha256')
        if not payload:
            return 400, 'InvalidRequest', 'missing x-amz-content-sha256', ''
        if payload != 'UNSIGNED-PAYLOAD' and payload != hashlib.sha256(body).hexdigest():
            return 400, 'XAmzContentSHA256Mismatch', 'payload hash mismatch', payload
        md5 = headers.get('Content-MD5')
        if md5 is None and method == 'POST' and 'delete' in [p.partition('=')[0] for p in target.partition('?')[2].split('&')]:
            # As S3: a bulk delete must carry Content-MD5 (or a checksum).
            return 400, 'InvalidRequest', 'Missing required header for this request: Content-Md5', ''
        if md5 is not None and md5 != base64.b64encode(hashlib.md5(body).digest()).decode():
            return 400, 'BadDigest', 'Content-MD5 mismatch', md5
        names = signed.split(';')
        if names != sorted(names) or 'host' not in names:
            return 403, 'SignatureDoesNotMatch', 'bad SignedHeaders', signed
        for h in headers.keys():
            if h.lower().startswith('x-amz-') and h.lower() not in names:
                return 403, 'AccessDenied', 'unsigned x-amz header ' + h.lower(), ''
        lines = []
        for n in names:
            values = headers.get_all(n)
            if values is None:
                return 403, 'SignatureDoesNotMatch', 'signed header missing: ' + n, ''
            lines.append('%s:%s\n' % (n, ','.join(' '.join(v.strip().split()) for v in values)))
        path, _, query = target.partition('?')
        creq = '\n'.join([method, uri_encode(urllib.parse.unquote(path), True),
                          canonical_query(query), ''.join(lines), signed, payload])
        scope = '%s/%s/%s/aws4_request' % (date, region, service)
        sts = '\n'.join(['AWS4-HMAC-SHA256', amzdate, scope,
                         hashlib.sha256(creq.encode()).hexdigest()])
        want = hmac.new(signing_key(self.secret, date, region, service), sts.encode(),
                        hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, signature):
            return 403, 'SignatureDoesNotMatch', 'signature does not match', creq
        return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'flexfs-sigv4-proxy'

    def setup(self):
        super().setup()
        self.server.state.count('connections')

    def log_message(self, fmt, *args):
        sys.stderr.write('sigv4-proxy: %s\n' % (fmt % args))

    def send_plain(self, status, body, ctype='application/xml', headers=()):
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def read_body(self):
        if 'chunked' in self.headers.get('Transfer-Encoding', '').lower():
            out = b''
            while True:
                size = int(self.rfile.readline().split(b';')[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b'\r\n', b'\n', b''):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(n) if n else b''

    def control(self):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        what = url.path[len('/__ctl/'):]
        with st.lock:
            if what == 'fail':
                st.fail_n = int(q.get('n', '1'))
                st.fail_status = int(q.get('status', '503'))
                st.fail_match = q.get('match', '')
            elif what == 'down':
                st.down_n = int(q.get('n', '-1'))
            elif what == 'delay':
                st.delay_ms = int(q.get('ms', '0'))
            elif what == 'up':
                st.down_n = 0
                st.fail_n = 0
                st.delay_ms = 0
            elif what == 'reset':
                for k in st.stats:
                    st.stats[k] = {} if k == 'methods' else 0
            elif what != 'stats':
                self.send_plain(404, b'unknown control\n', 'text/plain')
                return
            body = json.dumps(st.stats).encode()
        self.send_plain(200, body, 'application/json')

    def handle_any(self):
        st = self.server.state
        if self.path.startswith('/__ctl/'):
            self.read_body()
            self.control()
            return
        body = self.read_body()
        with st.lock:
            st.stats['requests'] += 1
            st.stats['methods'][self.command] = st.stats['methods'].get(self.command, 0) + 1
        fault, status = st.take_fault(self.path)
        if fault == 'down':
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault == 'fail':
            code = 'SlowDown' if status == 503 else 'InternalError'
            self.send_plain(status, s3_error_xml(code, 'injected fault'))
            return
        bad = self.server.verifier.check(self.command, self.path, self.headers, body)
        if bad:
            status, code, msg, detail = bad
            st.count('bad_signature' if status == 403 else 'bad_request')
            sys.stderr.write('sigv4-proxy: REFUSED %s %s: %s %s\n' % (
                self.command, self.path, code, msg))
            if detail:
                sys.stderr.write('sigv4-proxy: detail:\n%s\n' % detail)
            self.send_plain(status, s3_error_xml(code, msg))
            return
        st.count('verified')
        with st.lock:
            delay = st.delay_ms
        if delay:
            time.sleep(delay / 1000.0)
        self.forward(body, self.path_style_target())

    def path_style_target(self):
        """s3rver serves path-style only: a virtual-host request
        (Host: BUCKET.DOMAIN) goes on as /BUCKET/..."""
        domain = self.server.vhost_domain
        host = self.headers.get('Host', '').rsplit(':', 1)[0]
        if domain and host.endswith('.' + domain):
            return '/' + host[:-len(domain) - 1] + self.path
        return self.path

    def forward(self, body, target):
        conn = getattr(self.server.local, 'conn', None)
        if conn is None:
            conn = http.client.HTTPConnection(*self.server.upstream, timeout=60)
            self.server.local.conn = conn
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers['Content-Length'] = str(len(body))
        for attempt in (0, 1):
            try:
                conn.request(self.command, target, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                if attempt:
                    self.send_plain(502, s3_error_xml('BadGateway', 'upstream failed'))
                    return
        self.send_response(resp.status, resp.reason)
        length = None
        for k, v in resp.getheaders():
            if k.lower() in HOP_BY_HOP:
                if k.lower() == 'content-length':
                    length = v
                continue
            self.send_header(k, v)
        if self.command == 'HEAD':
            self.send_header('Content-Length', length if length is not None else '0')
        else:
            self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def read_credentials(path):
    cp = configparser.ConfigParser()
    with open(path) as f:
        cp.read_file(f)
    sec = cp['default']
    return sec['aws_access_key_id'].strip(), sec['aws_secret_access_key'].strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--listen', default='127.0.0.1:0')
    ap.add_argument('--upstream', required=True)
    ap.add_argument('--credentials', required=True)
    ap.add_argument('--region', default='')
    ap.add_argument('--port-file')
    ap.add_argument('--vhost-domain', default='',
                    help='serve virtual-host style for BUCKET.DOMAIN')
    a = ap.parse_args()
    key_id, secret = read_credentials(a.credentials)
    host, _, port = a.listen.rpartition(':')
    srv = Server((host or '127.0.0.1', int(port)), Handler)
    uhost, _, uport = a.upstream.rpartition(':')
    srv.upstream = (uhost, int(uport))
    srv.state = State()
    srv.verifier = Verifier(key_id, secret, a.region)
    srv.local = threading.local()
    srv.vhost_domain = a.vhost_domain
    if a.port_file:
        tmp = a.port_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write('%d\n' % srv.server_address[1])
        os.rename(tmp, a.port_file)
    sys.stderr.write('sigv4-proxy: listening on %s:%d, upstream %s\n' % (
        srv.server_address[0], srv.server_address[1], a.upstream))
    sys.stderr.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
