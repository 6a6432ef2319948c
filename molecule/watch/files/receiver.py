"""A notify endpoint for the watch scenario: each POST's body, one line each, appended to a file."""

import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Keep(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[2], "ab") as out:
            out.write(body + b"\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


HTTPServer(("127.0.0.1", int(sys.argv[1])), Keep).serve_forever()
