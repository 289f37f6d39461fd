"""POSIX shared memory as a client on the same host creates it, for the
shared-memory extension's tests and bench/shm_transport.py. Standard
library only."""

import mmap
import os


class ShmRegion:
    """A POSIX shared-memory object as a client creates it (shm_open via
    /dev/shm), mapped here; removed on close()."""

    def __init__(self, tag, size):
        self.key = f"/serval_test_{os.getpid()}_{tag}"
        self.size = size
        self._path = "/dev/shm" + self.key
        fd = os.open(self._path, os.O_CREAT | os.O_RDWR | os.O_EXCL, 0o600)
        try:
            os.ftruncate(fd, size)
            self.map = mmap.mmap(fd, size)
        finally:
            os.close(fd)

    def write(self, offset, data):
        self.map[offset:offset + len(data)] = data

    def read(self, offset, n):
        return bytes(self.map[offset:offset + n])

    def close(self):
        self.map.close()
        if os.path.exists(self._path):
            os.unlink(self._path)
