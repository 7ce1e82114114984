#!/usr/bin/python3
"""A real SMTP server for the mail tests (Debian's python3-aiosmtpd).

    smtpd.py PORT DIR

Listens on 127.0.0.1:PORT and stores each message it accepts, as received
(the bytes after DATA), in DIR/NNNN.eml, with its envelope in DIR/NNNN.env
(one line: the MAIL FROM address, then the RCPT TO addresses). Writes
DIR/ready once it listens. How it answers a recipient depends on the
address's local part:
    tempfail...  451 at RCPT TO (try again later)
    reject...    550 at RCPT TO (no such user)
anything else is accepted. Control files in DIR, while they exist:
    tempfail-all  every recipient is a tempfail
    slow          a message is stored, then its 250 waits 20 s"""
import asyncio
import os
import sys

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, folder):
        self.folder = folder
        self.n = len([f for f in os.listdir(folder) if f.endswith(".eml")])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("tempfail") or os.path.exists(os.path.join(self.folder, "tempfail-all")):
            return "451 4.3.0 try again later"
        if local.startswith("reject"):
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        base = os.path.join(self.folder, "%04d" % self.n)
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".env", "w") as f:
            f.write("\n".join([envelope.mail_from] + envelope.rcpt_tos) + "\n")
        os.rename(base + ".tmp", base + ".eml")
        if os.path.exists(os.path.join(self.folder, "slow")):
            await asyncio.sleep(20)
        return "250 Message accepted for delivery"


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Store(folder), hostname="127.0.0.1", port=port,
                            decode_data=False, data_size_limit=1 << 20)
    controller.start()
    open(os.path.join(folder, "ready"), "w").close()
    try:
        asyncio.get_event_loop().run_until_complete(asyncio.Event().wait())
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
