#!/usr/bin/python3
"""A real SMTP server for the tests (aiosmtpd, from Debian's python3-aiosmtpd).

Usage: smtp_sink.py PORT DIR [--refuse-first N]

Each message accepted is written whole, as received, to DIR/NNNNNN.eml (written to a
temporary name first, then renamed, so a reader never sees half a message). With
--refuse-first N the first N messages are refused with a temporary failure (451), as a
relay under load would.
"""
import os
import signal
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory, refuse_first):
        self.directory = directory
        self.refuse_left = refuse_first
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_left > 0:
            self.refuse_left -= 1
            return "451 4.3.0 try again later"
        self.count += 1
        name = os.path.join(self.directory, "%06d-%d.eml" % (self.count, os.getpid()))
        temp = name + ".tmp"
        with open(temp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(temp, name)
        return "250 OK"


def main():
    port = int(sys.argv[1])
    directory = sys.argv[2]
    refuse_first = 0
    if len(sys.argv) > 4 and sys.argv[3] == "--refuse-first":
        refuse_first = int(sys.argv[4])
    os.makedirs(directory, exist_ok=True)
    # A loaded CI machine (two cores, many tests at once) can take more than aiosmtpd's
    # default 5 s to answer its own readiness probe.
    controller = Controller(
        Sink(directory, refuse_first), hostname="127.0.0.1", port=port, ready_timeout=60
    )
    controller.start()
    print("ready", flush=True)
    # The controller serves from its own thread; this one only waits to be killed.
    signal.pause()


if __name__ == "__main__":
    main()
