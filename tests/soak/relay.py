"""A TCP relay on 127.0.0.1 that the fault soak can cut, to break one link.

    r = Relay(target_port)   # listens on r.port, forwards every connection to target_port
    r.cut()                  # a partition: no byte moves either way, new connections hang
    r.heal()                 # the held connections are closed; new ones go through again
    r.close()

A cut looks like a network that drops packets: connections stay open and
silent (no FIN, no RST), so the nodes on either side only learn of it from
their heartbeats, as they would from a broken cable. One thread runs every
socket non-blocking through a selector, so a peer that stops reading (a
SIGSTOPped node) holds up only its own connection.
"""
import selectors
import socket
import threading


class _Pipe:
    """One relayed connection: a <-> b, with bytes not yet written each way."""

    def __init__(self, a, b):
        self.a, self.b = a, b
        self.out = {a: bytearray(), b: bytearray()}  # bytes waiting to be written to that socket
        self.held = False

    def other(self, s):
        return self.b if s is self.a else self.a


class Relay:
    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.lsock.setblocking(False)
        self.port = self.lsock.getsockname()[1]
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.lsock, selectors.EVENT_READ, None)
        self.pipes = set()
        self.lock = threading.Lock()
        self.is_cut = False
        self._heal_pending = False
        self.stopping = False
        # a socketpair wakes the selector for cut/heal/close
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.sel.register(self.wake_r, selectors.EVENT_READ, "wake")
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    # ---- control (any thread) ----------------------------------------------------------------

    def _poke(self):
        try:
            self.wake_w.send(b"x")
        except OSError:
            pass

    def cut(self):
        with self.lock:
            self.is_cut = True
        self._poke()

    def heal(self):
        with self.lock:
            self.is_cut = False
            self._heal_pending = True
        self._poke()

    def close(self):
        with self.lock:
            self.stopping = True
        self._poke()
        self.thread.join(5)

    # ---- the relay thread ----------------------------------------------------------------------

    BUFFER = 1 << 20  # per direction: past this, stop reading the sender

    def _events(self, p, s):
        ev = 0
        if not p.held and len(p.out[p.other(s)]) < self.BUFFER:
            ev |= selectors.EVENT_READ
        if p.out[s]:
            ev |= selectors.EVENT_WRITE
        return ev

    def _update(self, p):
        for s in (p.a, p.b):
            ev = self._events(p, s)
            try:
                if ev:
                    self.sel.modify(s, ev, p)
                else:
                    self.sel.unregister(s)  # nothing to wait for (a held pipe is only closed)
            except (KeyError, ValueError):
                if ev:
                    self.sel.register(s, ev, p)

    def _drop(self, p):
        for s in (p.a, p.b):
            try:
                self.sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()
        self.pipes.discard(p)

    def _accept(self):
        try:
            c, _ = self.lsock.accept()
        except OSError:
            return
        c.setblocking(False)
        if self.is_cut:
            # a partition: the dialer's SYN "got through" to nowhere; hold it silently
            p = _Pipe(c, socket.socket())
            p.held = True
            self.pipes.add(p)
            return
        try:
            t = socket.create_connection(self.target, timeout=2)
        except OSError:
            c.close()
            return
        t.setblocking(False)
        t.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        p = _Pipe(c, t)
        self.pipes.add(p)
        self.sel.register(c, selectors.EVENT_READ, p)
        self.sel.register(t, selectors.EVENT_READ, p)

    def _control(self):
        try:
            while self.wake_r.recv(64):
                pass
        except BlockingIOError:
            pass
        with self.lock:
            cut, heal = self.is_cut, self._heal_pending
            self._heal_pending = False
        if cut:
            for p in list(self.pipes):
                if not p.held:
                    p.held = True
                    p.out[p.a].clear()
                    p.out[p.b].clear()
                    self._update(p)
        if heal:
            for p in list(self.pipes):
                if p.held:
                    self._drop(p)

    def _run(self):
        while True:
            with self.lock:
                if self.stopping:
                    break
            for key, ev in self.sel.select(timeout=0.5):
                if key.data is None:
                    self._accept()
                    continue
                if key.data == "wake":
                    self._control()
                    continue
                p, s = key.data, key.fileobj
                if p not in self.pipes or p.held:
                    continue
                if ev & selectors.EVENT_READ:
                    try:
                        data = s.recv(65536)
                    except BlockingIOError:
                        data = None
                    except OSError:
                        data = b""
                    if data == b"":
                        self._drop(p)
                        continue
                    if data:
                        p.out[p.other(s)] += data
                if ev & selectors.EVENT_WRITE and p.out[s]:
                    try:
                        n = s.send(p.out[s])
                        del p.out[s][:n]
                    except BlockingIOError:
                        pass
                    except OSError:
                        self._drop(p)
                        continue
                self._update(p)
        for p in list(self.pipes):
            self._drop(p)
        self.sel.close()
        self.lsock.close()
        self.wake_r.close()
        self.wake_w.close()
