#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Run a command in a real pseudo-terminal and drive it like a user.

    ptyrun.py [--rows R] [--cols C] [--timeout S] [STEP ...] -- CMD [ARG ...]

The command runs as a session leader with the pty's slave as its
controlling terminal and stdin/stdout/stderr (R x C, default 24 x 80).
Steps run in order:

    expect:REGEX   wait until the output after the last match matches REGEX
                   (Python re, DOTALL, on the output with carriage returns
                   dropped); the next expect starts after the match
    send:TEXT      type TEXT; backslash escapes are decoded (\\r, \\x10, \\n)
    resize:RxC     set the window size (the kernel sends SIGWINCH)
    sleep:SECONDS  pause (only to space out keys; never to wait for output)
    exit           wait until the command exits (also done after the last step)

Every wait is bounded by --timeout (default 30 s).  On success the output
the command wrote (carriage returns dropped) goes to stdout, followed by a
last line "ptyrun: exit N" (N: the exit status, 128+S for signal S), and the
exit status of ptyrun is 0.  A wait that runs out prints what was seen and
what was awaited on stderr, kills the command and exits 124.
"""
import codecs
import errno
import fcntl
import os
import re
import select
import signal
import struct
import sys
import termios
import time


def usage(msg):
    sys.stderr.write("ptyrun: %s\n" % msg)
    sys.exit(2)


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def parse_args(argv):
    opts = {"rows": 24, "cols": 80, "timeout": 30.0}
    steps = []
    i = 0
    while i < len(argv) and argv[i] != "--":
        a = argv[i]
        if a in ("--rows", "--cols", "--timeout"):
            if i + 1 >= len(argv):
                usage("%s needs a value" % a)
            opts[a[2:]] = float(argv[i + 1]) if a == "--timeout" else int(argv[i + 1])
            i += 2
            continue
        kind, _, arg = a.partition(":")
        if kind not in ("expect", "send", "resize", "sleep", "exit"):
            usage("unknown step %r" % a)
        steps.append((kind, arg))
        i += 1
    if i + 1 >= len(argv):
        usage("no command given (after --)")
    return opts, steps, argv[i + 1:]


class Session:
    def __init__(self, cmd, rows, cols, timeout):
        self.timeout = timeout
        self.out = b""
        self.pos = 0  # where the next expect starts
        self.status = None
        self.eof = False
        master, slave = os.openpty()
        set_size(slave, rows, cols)
        pid = os.fork()
        if pid == 0:
            try:
                os.close(master)
                os.setsid()
                fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(slave, fd)
                if slave > 2:
                    os.close(slave)
                signal.signal(signal.SIGPIPE, signal.SIG_DFL)
                os.execvp(cmd[0], cmd)
            except OSError as e:
                os.write(2, ("ptyrun: exec %s: %s\n" % (cmd[0], e)).encode())
            os._exit(127)
        os.close(slave)
        self.master, self.pid = master, pid

    def pump(self, wait):
        """Read what is there, waiting at most `wait` seconds for something."""
        if self.eof:
            if wait:
                time.sleep(min(wait, 0.05))
            return
        r, _, _ = select.select([self.master], [], [], wait)
        if not r:
            return
        try:
            data = os.read(self.master, 65536)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            data = b""
        if data:
            self.out += data.replace(b"\r", b"")
        else:
            self.eof = True  # every slave fd is closed

    def reap(self):
        if self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                if self.status < 0:
                    self.status = 128 - self.status
        return self.status is not None

    def fail(self, what):
        sys.stdout.write(self.text())
        sys.stderr.write("\nptyrun: timed out after %.0f s waiting for %s\n" % (self.timeout, what))
        sys.stderr.write("ptyrun: output since the last match: %r\n" % self.out[self.pos:])
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass
        sys.exit(124)

    def expect(self, pattern):
        rx = re.compile(pattern.encode(), re.S)
        deadline = time.monotonic() + self.timeout
        while True:
            m = rx.search(self.out, self.pos)
            if m:
                self.pos = m.end()
                return
            if self.eof and self.reap():
                self.fail("%r (the command exited with %d)" % (pattern, self.status))
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail(repr(pattern))
            self.pump(min(left, 0.5))

    def send(self, text):
        data = codecs.escape_decode(text.encode())[0]
        while data:
            n = os.write(self.master, data)
            data = data[n:]

    def wait_exit(self):
        deadline = time.monotonic() + self.timeout
        while not self.reap():
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail("the command to exit")
            self.pump(min(left, 0.2))
        # read what it left (a grandchild may hold the slave: do not wait for EOF)
        while not self.eof and select.select([self.master], [], [], 0.05)[0]:
            self.pump(0)

    def text(self):
        return self.out.decode("utf-8", "replace")


def main():
    opts, steps, cmd = parse_args(sys.argv[1:])
    s = Session(cmd, opts["rows"], opts["cols"], opts["timeout"])
    for kind, arg in steps:
        if kind == "expect":
            s.expect(arg)
        elif kind == "send":
            s.send(arg)
        elif kind == "resize":
            m = re.fullmatch(r"(\d+)x(\d+)", arg)
            if not m:
                usage("resize wants ROWSxCOLS, not %r" % arg)
            set_size(s.master, int(m.group(1)), int(m.group(2)))
        elif kind == "sleep":
            time.sleep(float(arg))
        elif kind == "exit":
            s.wait_exit()
    s.wait_exit()
    out = s.text()
    sys.stdout.write(out)
    if out and not out.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.write("ptyrun: exit %d\n" % s.status)


if __name__ == "__main__":
    main()
