#!/usr/bin/python3
"""A SIP caller over WebSocket (RFC 7118) or TLS, for gen.sh ws_call,
tls_call, tls13_call, tls12_call and tls12_cbc_call.

Usage: uac.py ws|tls LOCAL_IP PROXY_IP CALLEE_USER

ws: opens ws://PROXY_IP:8080 from LOCAL_IP with the "sip" subprotocol
(python3-websocket, which masks every frame as a client must).  tls:
connects to PROXY_IP:5061 with Python's ssl (OpenSSL; the proxy's
self-signed certificate is not verified), whatever version and suite
OpenSSL and the proxy agree on unless these environment variables (all
optional; tls only) say otherwise:

  UAC_TLS_KEYLOG   append the session's secrets to this file, in the NSS
                   key log format that Wireshark reads (SSLKEYLOGFILE
                   itself is not read: the context is not made by
                   ssl.create_default_context)
  UAC_TLS_VERSION  1.2 or 1.3: offer that version only
  UAC_TLS_CIPHERS  the TLS 1.2 suites to offer, an OpenSSL cipher list
                   (e.g. ECDHE-RSA-AES128-GCM-SHA256); TLS 1.3's are fixed
  UAC_TLS_NO_ETM   1: do not offer encrypt-then-MAC (RFC 7366), so that a
                   CBC suite is MAC-then-encrypt, as TLS 1.2 first had it

Then makes one call through the proxy: INVITE (SDP offer) / 100 / 180 /
200 / ACK, holds 1 s, BYE / 200, and closes the connection.  In-dialog
requests follow the route set of the 200's Record-Route and go to its
Contact.  Exits 1 when a step does not come as expected.
"""
import os
import random
import re
import socket
import ssl
import sys
import time

transport, local, proxy, user = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
if transport == "ws":
    host = "%08x.invalid" % random.getrandbits(32)  # RFC 7118 §5.2 Via host
else:
    host = local
tag = "%08x" % random.getrandbits(32)
call_id = "%016x@%s" % (random.getrandbits(64), host)
sdp = ("v=0\r\no=alice 2890844526 2890844526 IN IP4 %s\r\ns=-\r\n"
       "c=IN IP4 %s\r\nt=0 0\r\nm=audio 16000 RTP/AVP 0\r\n"
       "a=rtpmap:0 PCMU/8000\r\n") % (local, local)

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.bind((local, 0))
if transport == "ws":
    import websocket

    sock.connect((proxy, 8080))
    ws = websocket.create_connection("ws://%s:8080/" % proxy, socket=sock,
                                     subprotocols=["sip"], timeout=10)
    send, recv = ws.send, ws.recv
    close = ws.close
else:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    env = os.environ
    if env.get("UAC_TLS_KEYLOG"):
        ctx.keylog_filename = env["UAC_TLS_KEYLOG"]
    if env.get("UAC_TLS_VERSION"):
        v = {"1.2": ssl.TLSVersion.TLSv1_2,
             "1.3": ssl.TLSVersion.TLSv1_3}[env["UAC_TLS_VERSION"]]
        ctx.minimum_version = ctx.maximum_version = v
    if env.get("UAC_TLS_CIPHERS"):
        ctx.set_ciphers(env["UAC_TLS_CIPHERS"])
    if env.get("UAC_TLS_NO_ETM") == "1":
        ctx.options |= 1 << 19  # SSL_OP_NO_ENCRYPT_THEN_MAC (OpenSSL 1.1.1, 3)
    sock.settimeout(10)
    sock.connect((proxy, 5061))
    tls = ctx.wrap_socket(sock)
    pending = b""

    def send(text):
        tls.sendall(text.encode())

    def recv():
        """The next SIP message on the stream, framed by Content-Length."""
        global pending
        while b"\r\n\r\n" not in pending:
            pending += tls.recv(65536) or sys.exit("connection closed")
        head, rest = pending.split(b"\r\n\r\n", 1)
        m = re.search(rb"(?im)^(?:Content-Length|l)\s*:\s*(\d+)", head)
        n = int(m.group(1)) if m else 0
        while len(rest) < n:
            rest += tls.recv(65536) or sys.exit("connection closed")
        pending = rest[n:]
        return (head + b"\r\n\r\n" + rest[:n]).decode()

    def close():
        tls.close()


def request(method, uri, cseq, to, routes=(), body="", branch=None):
    lines = ["%s %s SIP/2.0" % (method, uri),
             "Via: SIP/2.0/%s %s;rport;branch=z9hG4bK%s" % (
                 transport.upper(), host, branch or "%08x" % random.getrandbits(32))]
    lines += ["Route: %s" % r for r in routes]
    lines += ["Max-Forwards: 70",
              "From: <sip:alice@%s>;tag=%s" % (host, tag),
              "To: %s" % to,
              "Call-ID: %s" % call_id,
              "CSeq: %d %s" % (cseq, method),
              "Contact: <sip:alice@%s;transport=%s>" % (host, transport),
              "User-Agent: sipflow-testdata %s UAC" % {"ws": "WebSocket", "tls": "TLS"}[transport]]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body.encode()))
    send("\r\n".join(lines) + "\r\n\r\n" + body)


def response(want_method):
    """The next response to want_method: (status, headers text)."""
    while True:
        msg = recv()
        m = re.match(r"SIP/2\.0 (\d{3}) ", msg)
        cseq = re.search(r"(?im)^CSeq:\s*\d+\s+(\S+)", msg)
        if m and cseq and cseq.group(1) == want_method:
            return int(m.group(1)), msg


def header(msg, name):
    return re.findall(r"(?im)^%s:\s*(.*?)\s*$" % name, msg)


to = "<sip:%s@%s>" % (user, proxy)
invite_branch = "%08x" % random.getrandbits(32)
request("INVITE", "sip:%s@%s" % (user, proxy), 1, to, body=sdp, branch=invite_branch)
while True:
    status, msg = response("INVITE")
    if status >= 200:
        break
if status != 200:
    sys.exit("INVITE answered %d" % status)
to = header(msg, "To")[0]
contact = re.search(r"<([^>]*)>", header(msg, "Contact")[0]).group(1)
rr = []
for h in header(msg, "Record-Route"):
    rr += [r.strip() for r in h.split(",")]
routes = list(reversed(rr))
request("ACK", contact, 1, to, routes)
time.sleep(1)
request("BYE", contact, 2, to, routes)
status, _ = response("BYE")
if status != 200:
    sys.exit("BYE answered %d" % status)
close()
