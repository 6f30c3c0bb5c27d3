"""A webhook receiver that verifies with the Standard Webhooks reference
library: what any receiver using it does with the gateway's deliveries.

    receiver.py --secret whsec_... --out FILE

Listens on a free loopback port and prints `listening on PORT` first.
Every POST is verified with `standardwebhooks.Webhook(secret).verify` and
answered 204, or 400 when it does not verify; each is written to FILE as a
JSON line {"id": <webhook-id>, "verified": true|false, "error": ...}.
Runs until killed. (The e2e test `webhooks::the_reference_library_verifies_every_delivery`
starts it when CHECKOUT_GATEWAY_TEST_STANDARDWEBHOOKS names its python.)
"""

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secret", required=True, help="whsec_... the endpoint is configured with")
    parser.add_argument("--out", required=True, help="file to append one JSON line per request to")
    args = parser.parse_args()
    webhook = Webhook(args.secret)
    written = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            record = {"id": headers.get("webhook-id", ""), "verified": True, "error": None}
            try:
                webhook.verify(body, headers)
            except Exception as error:  # the library raises several kinds
                record["verified"] = False
                record["error"] = repr(error)
            with written, open(args.out, "a", encoding="utf-8") as out:
                out.write(json.dumps(record) + "\n")
            self.send_response(204 if record["verified"] else 400)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *values: object) -> None:
            pass  # the JSON lines say it all

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
