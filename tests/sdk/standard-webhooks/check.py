"""Verify webhook signatures the gateway made, with the Standard Webhooks
reference library: proof that any receiver using it accepts our deliveries.

Reads JSON lines {"secret", "id", "timestamp", "body", "signature"} from
stdin (timestamp: unix seconds, within the library's 5 minutes of now) and
verifies each one. Exits non-zero at the first that fails, or when there
were none; otherwise prints how many verified.
"""

import json
import sys

from standardwebhooks import Webhook


def main() -> int:
    verified = 0
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        vector = json.loads(line)
        headers = {
            "webhook-id": vector["id"],
            "webhook-timestamp": str(vector["timestamp"]),
            "webhook-signature": vector["signature"],
        }
        try:
            Webhook(vector["secret"]).verify(vector["body"], headers)
        except Exception as error:  # the library raises several kinds
            print(f"line {number} ({vector['id']}): not verified: {error!r}", file=sys.stderr)
            return 1
        verified += 1
    if verified == 0:
        print("no vectors on stdin", file=sys.stderr)
        return 1
    print(f"verified {verified}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
