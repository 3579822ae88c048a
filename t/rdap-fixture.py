#!/usr/bin/env python3
"""t/rdap-fixture.py: a canned RDAP server on 127.0.0.1 for t/4001-resolve.t.

    rdap-fixture.py DATADIR PORTFILE LOG [CERT KEY]

Listens on a free port, writes it to PORTFILE once listening, and serves
GET /SCENARIO/KIND/OBJECT (KIND: ip or domain) until killed. Each request
is logged to LOG as "PATH HOST ACCEPT". With CERT and KEY it speaks TLS.
A scenario is DATADIR/SCENARIO.KIND.json, served as is (404 if missing),
or one of the behaviours in SPECIAL. Python standard library only.
"""
import http.server
import os
import ssl
import sys
import threading
import time

DATA = LOG = None
LOCK = threading.Lock()
BIG = b'{"name": "BIG", "pad": "' + b"a" * (2 << 20) + b'"}'
GOTO = {    # t/4004-resolve-hostile.t: redirects that must be refused
    "goto-private": "http://10.0.0.1",
    "goto-linklocal": "http://169.254.169.254",
    "goto-multicast": "http://224.0.0.1",
    "goto-mapped": "http://[::ffff:192.168.0.1]",
    "goto-v6linklocal": "http://[fe80::1]",
    "goto-ula": "https://[fd00::1]",
    "goto-port": "http://93.184.216.34:22",
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body=b"", headers=(), length=True):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, status, where):
        self.answer(status, b"moved", [("Location", where)])

    def chunked(self, body, size, trailer=b""):
        self.send_response(200)
        self.send_header("Content-Type", "application/rdap+json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        for i in range(0, len(body), size):
            piece = body[i:i + size]
            self.wfile.write(b"%x;n=%d\r\n%s\r\n" % (len(piece), i, piece))
        self.wfile.write(b"0\r\n" + trailer + b"\r\n")

    def raw(self, data):
        self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = True

    def data(self, name):
        try:
            with open(os.path.join(DATA, name), "rb") as f:
                return f.read()
        except OSError:
            return None

    def do_GET(self):
        host = self.headers.get("Host", "-")
        accept = self.headers.get("Accept", "-")
        with LOCK, open(LOG, "a") as f:
            f.write("%s %s %s\n" % (self.path, host, accept))
        parts = self.path.split("/")
        if len(parts) != 4 or parts[2] not in ("ip", "domain"):
            return self.answer(400)
        if accept != "application/rdap+json" or host == "-":
            return self.answer(406)
        scen, kind, obj = parts[1:]
        scheme = "https" if self.server.ctx else "http"
        me = "%s://127.0.0.1:%d" % (scheme, self.server.server_address[1])
        nested = self.data("nested.ip.json")
        if scen == "redirect":    # bootstrap style: a relative, then an absolute
            return self.redirect(302, "/redirect2/%s/%s" % (kind, obj))
        if scen == "redirect2":
            return self.redirect(307, "%s/nested/%s/%s" % (me, kind, obj))
        if scen == "loop":
            return self.redirect(302, "/loop/%s/%s" % (kind, obj))
        if scen == "ftp":
            return self.redirect(301, "ftp://127.0.0.1/nested/ip/" + obj)
        if scen == "userinfo":
            return self.redirect(302, "http://u@127.0.0.1:%d/nested/ip/%s"
                                 % (self.server.server_address[1], obj))
        if scen == "tohttp":
            return self.redirect(302, "http://127.0.0.1:1/nested/ip/" + obj)
        if scen == "chunked":
            return self.chunked(nested, 7, b"X-Trailer: 1\r\n")
        if scen == "eof":          # no length: the body ends when we close
            return self.raw(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
                            + nested)
        if scen == "big":
            return self.answer(200, BIG)
        if scen == "bigchunked":
            return self.chunked(BIG, 65536)
        if scen == "bigeof":
            return self.raw(b"HTTP/1.1 200 OK\r\n\r\n" + BIG)
        if scen == "truncated":
            return self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"
                            + nested[:50])
        if scen == "badchunk":
            return self.raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
                            b"\r\n\r\nffffffffffffffffff\r\n{}\r\n0\r\n\r\n")
        if scen == "headerbomb":
            try:
                self.raw(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (10 << 20))
            except OSError:
                pass
            return
        if scen == "unavailable":
            return self.answer(503)
        if scen == "slowredirect":  # each hop in time, the chain not
            time.sleep(0.9)
            return self.redirect(302, "/slowredirect/%s/%s" % (kind, obj))
        if scen in GOTO:            # a redirect to where no lookup may go
            return self.redirect(302, GOTO[scen] + "/nested/ip/" + obj)
        if scen == "hang":         # accept, read the request, never answer
            time.sleep(60)
            return
        if scen == "drip":         # a byte at a time: never done in time
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
            try:
                for _ in range(100):
                    time.sleep(0.1)
                    self.raw(b" ")
            except OSError:
                pass
            return
        body = self.data("%s.%s.json" % (scen, kind))
        if body is None:
            return self.answer(404, b'{"errorCode": 404}')
        self.answer(200, body, [("Content-Type", "application/rdap+json")])


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    ctx = None

    def handle_error(self, request, client_address):
        pass    # a client hanging up on a hostile answer is expected

    def finish_request(self, request, client_address):
        if self.ctx:
            request.settimeout(10)
            try:
                request = self.ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        try:
            super().finish_request(request, client_address)
        finally:
            request.close()


def main():
    global DATA, LOG
    if len(sys.argv) not in (4, 6):
        sys.exit("usage: rdap-fixture.py DATADIR PORTFILE LOG [CERT KEY]")
    DATA, portfile, LOG = sys.argv[1:4]
    srv = Server(("127.0.0.1", 0), Handler)
    if len(sys.argv) == 6:
        srv.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        srv.ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
