#!/usr/bin/env python3
"""Renders serval.conf.template for a list of serval replicas.

    python3 deploy/nginx/render.py 10.0.0.11 10.0.0.12 > /etc/nginx/conf.d/serval.conf
    python3 deploy/nginx/render.py --http-listen 127.0.0.1:9000 \
        --grpc-listen 127.0.0.1:9001 127.0.0.1:8000:8001 127.0.0.1:8100:8101

A replica is HOST (serval's default ports 8000 and 8001) or
HOST:HTTP_PORT:GRPC_PORT; an IPv6 address goes in brackets ([::1]:8000:8001).
A template line that names {{replica_...}} is written once per replica; every
other {{name}} is replaced once. A placeholder left unfilled is an error.
Standard library only.
"""

import argparse
import os
import re
import sys

DEFAULT_TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "serval.conf.template")
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def parse_replica(text):
    """(host, http_port, grpc_port) from HOST or HOST:HTTP:GRPC."""
    match = re.fullmatch(r"(\[[0-9a-fA-F:.]+\]|[^:\[\]\s]+)(?::(\d+):(\d+))?",
                         text)
    if not match:
        raise ValueError(f"bad replica {text!r}: expected HOST or "
                         "HOST:HTTP_PORT:GRPC_PORT")
    host, http_port, grpc_port = match.groups()
    ports = (int(http_port or 8000), int(grpc_port or 8001))
    for port in ports:
        if not 0 < port < 65536:
            raise ValueError(f"bad port {port} in replica {text!r}")
    return (host,) + ports


def render(template, replicas, http_listen="8000", grpc_listen="8001"):
    """The template text with its placeholders filled; `replicas` is a list
    of (host, http_port, grpc_port)."""
    if not replicas:
        raise ValueError("at least one replica is needed")
    values = {"http_listen": str(http_listen), "grpc_listen": str(grpc_listen)}
    out = []
    for lineno, line in enumerate(template.splitlines(keepends=True), 1):
        names = PLACEHOLDER.findall(line)
        if any(n.startswith("replica_") for n in names):
            for host, http_port, grpc_port in replicas:
                fill = dict(values, replica_host=host,
                            replica_http_port=str(http_port),
                            replica_grpc_port=str(grpc_port))
                out.append(_fill(line, fill, lineno))
        else:
            out.append(_fill(line, values, lineno))
    return "".join(out)


def _fill(line, values, lineno):
    def replace(match):
        name = match.group(1)
        if name not in values:
            raise ValueError(f"template line {lineno}: unknown placeholder "
                             f"{{{{{name}}}}}")
        return values[name]
    return PLACEHOLDER.sub(replace, line)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("replicas", nargs="+", metavar="REPLICA",
                        help="HOST or HOST:HTTP_PORT:GRPC_PORT")
    parser.add_argument("--http-listen", default="8000",
                        help="nginx's HTTP listen address (default 8000)")
    parser.add_argument("--grpc-listen", default="8001",
                        help="nginx's gRPC listen address (default 8001)")
    parser.add_argument("--template", default=DEFAULT_TEMPLATE)
    parser.add_argument("-o", "--output",
                        help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    try:
        replicas = [parse_replica(r) for r in args.replicas]
        with open(args.template) as f:
            text = render(f.read(), replicas, args.http_listen,
                          args.grpc_listen)
    except (OSError, ValueError) as e:
        parser.error(str(e))
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
