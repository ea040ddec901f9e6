"""A stand-in for SQS's SendMessageBatch with a fixed round-trip time, for bench/fanout/run.sh.

moto is CPU-bound (one Python process) and its cost per message grows with the queue's depth, so against it the
fan-out measures moto, not waiting on the network; real SQS is the opposite: each call is a round trip of tens of
milliseconds and the service takes many at once. This server answers every SendMessageBatch (the AWS JSON 1.0
protocol the Rust SDK speaks) after LATENCY_MS, accepting every entry, one thread per connection so concurrent
calls wait concurrently, and counts the messages per queue URL (GET /count?queue=URL).

    python3 latency_sqs.py PORT LATENCY_MS
"""

import hashlib
import json
import sys
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

LATENCY = float(sys.argv[2]) / 1000
COUNTS: Counter = Counter()
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the SDK reuses its connections, as it does with SQS
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for the client's delayed ACK
    # (40 ms), which would add to every call.
    disable_nagle_algorithm = True

    def reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        queue = parse_qs(urlparse(self.path).query).get("queue", [""])[0]
        with LOCK:
            self.reply(200, {"messages": COUNTS[queue]})

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers.get("X-Amz-Target") != "AmazonSQS.SendMessageBatch":
            self.reply(400, {"__type": "UnsupportedOperation", "message": "only SendMessageBatch"})
            return
        time.sleep(LATENCY)
        entries = request["Entries"]
        with LOCK:
            COUNTS[request["QueueUrl"]] += len(entries)
        self.reply(200, {
            "Successful": [{
                "Id": entry["Id"],
                "MessageId": str(uuid.uuid4()),
                "MD5OfMessageBody": hashlib.md5(entry["MessageBody"].encode()).hexdigest(),
            } for entry in entries],
            "Failed": [],
        })

    def log_message(self, *_args) -> None:
        pass


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
