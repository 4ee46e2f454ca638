# A local SMTP sink for the alert-delivery test: aiosmtpd (PyPI) on 127.0.0.1:PORT; every message
# it receives is parsed with Python's email package and printed as one JSON line on stdout.
# Usage: python smtp-sink.py PORT
import json
import signal
import sys
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class Handler:
    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        plain = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        print(json.dumps({
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["from"]),
            "to": str(msg["to"]),
            "subject": str(msg["subject"]),
            "text": plain.get_content() if plain is not None else None,
            "html": html is not None,
        }), flush=True)
        return "250 OK"


controller = Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print(json.dumps({"listening": int(sys.argv[1])}), flush=True)
signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), sys.exit(0)))
signal.pause()
